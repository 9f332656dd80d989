"""`digitlab serve --workers N`: the HAProxy configuration it writes, and its refusals."""

import shutil
import subprocess

import pytest

from digitlab import cli, hosting


def test_workers_take_the_ports_after_the_proxys():
    assert hosting.workers_for(8501, 3) == [
        hosting.Worker("w1", 8502),
        hosting.Worker("w2", 8503),
        hosting.Worker("w3", 8504),
    ]
    for count in (0, hosting.MAX_WORKERS + 1):
        with pytest.raises(hosting.HostingError, match="between 1 and"):
            hosting.workers_for(8501, count)


def test_the_configuration_keeps_each_browser_on_one_worker():
    config = hosting.haproxy_config("0.0.0.0", 8501, hosting.workers_for(8501, 2))
    assert "bind 0.0.0.0:8501" in config
    assert f"cookie {hosting.WORKER_COOKIE} insert indirect nocache" in config
    assert "server w1 127.0.0.1:8502 check cookie w1" in config
    assert "server w2 127.0.0.1:8503 check cookie w2" in config
    assert "option httpchk GET /_stcore/health" in config
    assert "timeout tunnel 1h" in config  # a lesson's websocket is not cut after HAProxy's default
    assert f"set-header {hosting.WORKER_HEADER} %[srv_name]" in config


@pytest.mark.skipif(not any(shutil.which(p) for p in hosting.HAPROXY_PLACES), reason="HAProxy not installed")
def test_haproxy_accepts_the_configuration(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(hosting.haproxy_config("127.0.0.1", 8501, hosting.workers_for(8501, 4)))
    checked = subprocess.run([hosting.find_haproxy(), "-c", "-f", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    path.write_text(hosting.haproxy_config("127.0.0.1", 8501, []).replace("balance", "balanse"))
    assert subprocess.run([hosting.find_haproxy(), "-c", "-f", str(path)], capture_output=True).returncode


def test_serve_says_how_to_install_haproxy_when_it_is_missing(monkeypatch, capsys):
    monkeypatch.setattr(hosting, "HAPROXY_PLACES", ("/nowhere/haproxy",))
    assert cli.main(["serve", "--workers", "2", "--port", "8790"]) == cli.EXIT_LOAD
    error = capsys.readouterr().err
    assert "apt-get install haproxy" in error and "Traceback" not in error


def test_serve_refuses_too_many_workers(capsys):
    assert cli.main(["serve", "--workers", "99"]) == cli.EXIT_LOAD
    assert "between 1 and 32" in capsys.readouterr().err
