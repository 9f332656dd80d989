"""The container hosting files agree with each other and with the app, checked without Docker.

Dockerfile, .dockerignore, compose.yaml and deploy/haproxy-compose.cfg each name the same few facts (the
port, the health path, the data folder, the working directory, the secrets file); a typo in one of them
shows only when a teacher runs `docker compose up`. These tests read each file with a small parser of its
own and compare the facts, run the health check's command against a stand-in server, and let HAProxy
itself check its configuration (`haproxy -c`). CI has no Docker, so no image is built here.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CFG = "deploy/haproxy-compose.cfg"
HAPROXY = Path("/usr/sbin/haproxy")
HAPROXY_IMAGE_CFG = "/usr/local/etc/haproxy/haproxy.cfg"  # where the official image reads its config


# --- small parsers -------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined and comments dropped."""
    instructions, pending = [], []
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        name, _, args = " ".join([*pending, line]).partition(" ")
        instructions.append((name.upper(), args.strip()))
        pending = []
    return instructions


def only(instructions, name: str) -> str:
    found = [args for instruction, args in instructions if instruction == name]
    assert len(found) == 1, f"the Dockerfile should have one {name}, has {len(found)}"
    return found[0]


def exec_form(args: str) -> list[str]:
    """A CMD in exec (JSON) form: the process gets signals itself, with no shell in between."""
    assert args.startswith("["), f"not the exec (JSON) form: {args}"
    return json.loads(args)


def dockerfile_env(instructions) -> dict[str, str]:
    env = {}
    for instruction, args in instructions:
        if instruction == "ENV":
            env.update(word.split("=", 1) for word in shlex.split(args))
    return env


def healthcheck_command(instructions) -> list[str]:
    _options, _, command = only(instructions, "HEALTHCHECK").partition(" CMD ")
    return exec_form(command.strip())


def url_in(command: list[str]) -> urllib.parse.SplitResult:
    found = re.findall(r"https?://[^'\"\s)]+", " ".join(command))
    assert len(found) == 1, f"the health check should ask one URL: {command}"
    return urllib.parse.urlsplit(found[0])


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}` and `${NAME:-default}`, as `docker compose` fills them in."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m.group(1)) or (m.group(2) or ""), str(value)
    )


def mounts(service: dict) -> list[dict]:
    """A service's volumes in compose's long syntax (short "source:target[:ro]" entries converted)."""
    result = []
    for entry in service.get("volumes", []):
        if isinstance(entry, str):
            source, target, *mode = entry.split(":")
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            entry = {"type": kind, "source": source, "target": target, "read_only": mode == ["ro"]}
        result.append(entry)
    return result


def haproxy_sections() -> dict[str, list[list[str]]]:
    """ "backend streamlit" → its lines, each split into words; comments dropped."""
    sections, current = {}, None
    for raw in (ROOT / HAPROXY_CFG).read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(line.split()), [])
        else:
            current.append(shlex.split(line))
    return sections


def directive(lines: list[list[str]], *words: str) -> list[str]:
    """The words after `words` on the one line of a section that starts with them."""
    found = [line[len(words) :] for line in lines if tuple(line[: len(words)]) == words]
    assert len(found) == 1, f"expected one {' '.join(words)!r} line, found {len(found)}"
    return found[0]


def seconds(duration: str) -> float:
    """An HAProxy duration ("1h", "30s", "500ms"; a bare number is milliseconds) in seconds."""
    number, unit = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)?", duration).groups()
    return int(number) * {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last matching pattern wins, `!` re-adds,
    and a pattern that matches a folder leaves out all it holds."""
    prefixes = ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip().strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


# --- the facts, read once --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker():
    instructions = dockerfile_instructions()
    health = healthcheck_command(instructions)
    return {
        "instructions": instructions,
        "workdir": only(instructions, "WORKDIR"),
        "data_dir": dockerfile_env(instructions)["DIGITLAB_DATA_DIR"],
        "expose": only(instructions, "EXPOSE"),
        "health": health,
        "health_url": url_in(health),
        "cmd": exec_form(only(instructions, "CMD")),
    }


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def backend():
    sections = haproxy_sections()
    name = directive(sections["frontend digitlab"], "default_backend")[0]
    return sections[f"backend {name}"]


# --- Dockerfile ------------------------------------------------------------------------------------------


def test_dockerfile_builds_on_python_3_11(docker):
    base = only(docker["instructions"], "FROM")
    assert re.fullmatch(r"python:3\.11(?:[.-]\S*)?", base), f"base image {base!r} is not Python 3.11"


def test_requirements_install_before_the_code_is_copied(docker):
    steps = [f"{name} {args}" for name, args in docker["instructions"]]
    copy_requirements = next(i for i, s in enumerate(steps) if re.fullmatch(r"COPY requirements\.txt \S+", s))
    install = next(i for i, s in enumerate(steps) if s.startswith("RUN") and "-r requirements.txt" in s)
    copy_code = next(i for i, s in enumerate(steps) if re.fullmatch(r"COPY \. \S+", s))
    assert copy_requirements < install < copy_code, "a code change would reinstall every requirement"


def test_the_app_runs_as_a_user_who_can_write_the_data_volume(docker):
    steps = docker["instructions"]
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"the app runs as root: {users}"
    volume = next(i for i, (name, _) in enumerate(steps) if name == "VOLUME")
    assert docker["data_dir"] in exec_form(steps[volume][1]), "DIGITLAB_DATA_DIR is not the volume"
    handed_over = [
        args
        for name, args in steps[:volume]
        if name == "RUN" and re.search(rf"chown\b.*\s{re.escape(docker['data_dir'])}\b", args)
    ]
    assert handed_over, f"{docker['data_dir']} is not handed to the app's user before VOLUME"


def test_cmd_starts_the_app_on_the_exposed_port_for_everyone(docker):
    import streamlit as st

    program, run, script, *flags = docker["cmd"]
    assert [program, run, script] == ["streamlit", "run", "app.py"] and (ROOT / script).is_file()
    options = dict(flag.removeprefix("--").split("=", 1) for flag in flags)
    for name in options:
        st.get_option(name)  # raises for an option this Streamlit does not have
    assert options == {
        "server.address": "0.0.0.0",
        "server.port": docker["expose"],
        "server.headless": "true",
    }
    assert docker["health_url"].port == int(docker["expose"]), "the health check asks another port"


class _StandIn(BaseHTTPRequestHandler):
    """Answers like Streamlit: "ok" at its health path, its index page (200 too) anywhere else."""

    health_status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        healthy = self.path == "/_stcore/health"
        status, body = (self.health_status, b"ok") if healthy else (200, b"<!doctype html><title>app</title>")
        if healthy and status != 200:
            body = b"unavailable"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("health_status, healthy", [(200, True), (503, False)])
def test_the_health_check_command_asks_streamlits_health_path(docker, health_status, healthy):
    program, *args = docker["health"]
    assert program in ("python", "python3"), "slim images have python, not curl or wget"
    assert docker["health_url"].path == "/_stcore/health"
    handler = type("Handler", (_StandIn,), {"health_status": health_status})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        here = f"127.0.0.1:{server.server_address[1]}"
        command = [arg.replace(docker["health_url"].netloc, here) for arg in args]
        result = subprocess.run([sys.executable, *command], capture_output=True, timeout=30)
        server.shutdown()
    assert (result.returncode == 0) == healthy, result.stderr.decode()[-500:]


def test_dockerignore_keeps_out_history_environments_outputs_and_secrets():
    patterns = [p for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip() and p[0] != "#"]
    for path in [".git/HEAD", ".venv/bin/python", "var/board.sqlite3", "var/cache/pen.npz", "runs/a.keras"]:
        assert dockerignored(path, patterns), f"{path} would be copied into the image"
    for path in ["test-artifacts/server.log", ".streamlit/secrets.toml", "digitlab/__pycache__/data.pyc"]:
        assert dockerignored(path, patterns), f"{path} would be copied into the image"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    needed = [p for p in tracked.stdout.splitlines() if p.split("/")[0] in ("digitlab", "pages", "assets")]
    needed += ["app.py", "requirements.txt", "pyproject.toml", ".streamlit/config.toml"]
    assert [p for p in needed if dockerignored(p, patterns)] == [], "the app needs these in the image"


# --- compose.yaml ----------------------------------------------------------------------------------------


def test_compose_runs_replicas_of_the_app_behind_the_proxy(compose):
    assert set(compose["services"]) == {"app", "proxy"}
    app = compose["services"]["app"]
    build = app["build"] if isinstance(app["build"], dict) else {"context": app["build"]}
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == ROOT / "Dockerfile"
    replicas = app["deploy"]["replicas"]
    assert interpolate(replicas, {}) == "2"
    assert interpolate(replicas, {"DIGITLAB_REPLICAS": "5"}) == "5"


def test_the_replicas_share_a_named_volume_on_the_data_folder(compose, docker):
    on_data = [m for m in mounts(compose["services"]["app"]) if m["target"] == docker["data_dir"]]
    assert len(on_data) == 1 and on_data[0]["type"] == "volume", f"no named volume on {docker['data_dir']}"
    assert on_data[0]["source"] in (compose.get("volumes") or {}), "the volume is not declared"
    # ... and the training-slot line in it: without this each replica would count its own slots.
    assert compose["services"]["app"].get("environment", {}).get("DIGITLAB_SHARED_SLOTS") == "1"


def test_the_teacher_code_is_a_read_only_secrets_file_git_ignores(compose, docker):
    secrets = ROOT / ".streamlit" / "secrets.toml"
    mounted = [m for m in mounts(compose["services"]["app"]) if (ROOT / m["source"]).resolve() == secrets]
    assert len(mounted) == 1, "compose does not mount .streamlit/secrets.toml"
    assert mounted[0]["target"] == f"{docker['workdir'].rstrip('/')}/.streamlit/secrets.toml"
    assert mounted[0]["type"] == "bind" and mounted[0].get("read_only") is True

    def ignored(path):
        # --no-index: a tracked file (config.toml) is judged by the patterns alone, as a new clone's would be
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    assert ignored(".streamlit/secrets.toml"), "git would commit the teacher code"
    assert not ignored(".streamlit/config.toml") and not ignored(".streamlit/secrets.toml.example")
    assert "teacher_code" in (ROOT / ".streamlit" / "secrets.toml.example").read_text()


def test_compose_health_check_is_the_dockerfiles(compose, docker):
    assert compose["services"]["app"]["healthcheck"]["test"] == ["CMD", *docker["health"]]


def test_the_proxy_publishes_its_listener_and_waits_for_healthy_replicas(compose):
    proxy = compose["services"]["proxy"]
    assert re.fullmatch(r"haproxy:2\.6(?:[.-]\S*)?", proxy["image"])
    (published,) = proxy["ports"]
    host, container = interpolate(published, {}).rsplit(":", 1)
    assert host == "8501" and interpolate(published, {"DIGITLAB_PORT": "80"}).startswith("80:")
    bind = directive(haproxy_sections()["frontend digitlab"], "bind")[0]
    assert bind.rsplit(":", 1)[1] == container, f"HAProxy listens on {bind}, compose publishes {container}"
    config = [m for m in mounts(proxy) if m["target"] == HAPROXY_IMAGE_CFG]
    assert len(config) == 1 and (ROOT / config[0]["source"]).resolve() == ROOT / HAPROXY_CFG
    assert config[0].get("read_only") is True
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"


# --- deploy/haproxy-compose.cfg ----------------------------------------------------------------------------


def test_haproxy_finds_every_replica_through_dockers_dns(backend, docker, compose):
    template = directive(backend, "server-template")
    assert template[:3] == ["app", "1-16", f"app:{docker['expose']}"] and "app" in compose["services"]
    options = template[3:]
    assert "check" in options and options[options.index("init-addr") + 1] == "libc,none"
    resolvers = options[options.index("resolvers") + 1]
    sections = haproxy_sections()
    assert directive(sections[f"resolvers {resolvers}"], "nameserver")[1] == "127.0.0.11:53"


def test_haproxy_keeps_each_browser_on_one_replica(backend):
    assert directive(backend, "balance") == ["leastconn"]
    cookie = directive(backend, "cookie")
    assert cookie[0] == "DIGITLAB_WORKER" and {"insert", "indirect", "nocache", "dynamic"} <= set(cookie)
    assert directive(backend, "dynamic-cookie-key")


def test_haproxy_checks_health_and_holds_websockets_open(backend, docker):
    assert directive(backend, "option", "httpchk") == ["GET", docker["health_url"].path]
    defaults = haproxy_sections()["defaults"]
    assert seconds(directive(defaults, "timeout", "tunnel")[0]) >= 3600
    for side in ("client", "server"):
        assert seconds(directive(defaults, "timeout", side)[0]) >= 600, f"timeout {side} is short"


def _haproxy_or_skip() -> str:
    if HAPROXY.is_file():
        return str(HAPROXY)
    reason = f"{HAPROXY} is absent (apt-get install haproxy; .ci/run installs it)"
    if os.environ.get("DIGITLAB_REQUIRE_E2E", "") == "1":
        pytest.fail(f"DIGITLAB_REQUIRE_E2E=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def test_haproxy_accepts_the_config():
    haproxy = _haproxy_or_skip()
    result = subprocess.run([haproxy, "-c", "-f", HAPROXY_CFG], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Outside compose "app" does not resolve: those servers start disabled, the one warning expected.
    warnings = [
        line for line in output.splitlines() if "[WARNING]" in line and "resolve address 'app'" not in line
    ]
    assert warnings == [], output


def test_haproxy_check_rejects_a_broken_config(tmp_path):
    haproxy = _haproxy_or_skip()
    broken = tmp_path / "broken.cfg"
    broken.write_text((ROOT / HAPROXY_CFG).read_text() + "    balance fastest-first\n")
    result = subprocess.run([haproxy, "-c", "-f", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0, "haproxy -c accepts anything: the test above would prove nothing"
