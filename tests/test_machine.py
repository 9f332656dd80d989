"""The machine's real size: cores and free memory as a container's cgroup limits leave them."""

from pathlib import Path

from digitlab import machine
from digitlab.classroom.slots import slot_count


def cgroup(tmp_path: Path, files: dict, self_cgroup: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc_self_cgroup"
    proc.write_text(self_cgroup)
    return root, proc


def meminfo(tmp_path: Path, kib: int) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {kib} kB\n")
    return path


def test_cgroup_v2_limits_cap_cores_and_memory(tmp_path):
    root, proc = cgroup(
        tmp_path,
        {"app/cpu.max": "150000 100000", "app/memory.max": "4294967296", "app/memory.current": "1073741824"},
        "0::/app\n",
    )
    assert machine.cpu_limit(root, proc) == 1.5
    assert machine.cpu_cores(root, proc, affinity=set(range(64))) == 2
    assert machine.available_memory_bytes(meminfo(tmp_path, 50_000_000), root, proc) == 3 * 2**30


def test_cgroup_v1_limits_cap_cores_and_memory(tmp_path):
    root, proc = cgroup(
        tmp_path,
        {
            "cpu/docker/x/cpu.cfs_quota_us": "200000",
            "cpu/docker/x/cpu.cfs_period_us": "100000",
            "memory/docker/x/memory.limit_in_bytes": str(2 * 2**30),
            "memory/docker/x/memory.usage_in_bytes": str(2**29),
        },
        "4:memory:/docker/x\n1:cpu,cpuacct:/docker/x\n",
    )
    assert machine.cpu_cores(root, proc, affinity=set(range(16))) == 2
    assert machine.available_memory_bytes(meminfo(tmp_path, 50_000_000), root, proc) == 3 * 2**29


def test_no_limit_means_the_host_figures(tmp_path):
    root, proc = cgroup(
        tmp_path,
        {"cpu.max": "max 100000", "memory.max": "max", "memory.current": "123"},
        "0::/\n",
    )
    assert machine.cpu_limit(root, proc) is None
    assert machine.cpu_cores(root, proc, affinity={0, 1, 2, 3}) == 4
    assert machine.available_memory_bytes(meminfo(tmp_path, 1000), root, proc) == 1000 * 1024
    root_v1, proc_v1 = cgroup(
        tmp_path / "v1",
        {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"},
        "1:cpu:/\n4:memory:/\n",
    )
    (root_v1 / "memory").mkdir()
    (root_v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712")
    assert machine.cpu_cores(root_v1, proc_v1, affinity={0, 1}) == 2
    assert machine.available_memory_bytes(meminfo(tmp_path, 1000), root_v1, proc_v1) == 1000 * 1024


def test_nothing_readable_is_no_limit_and_no_figure(tmp_path):
    missing = tmp_path / "nothing"
    assert machine.cpu_cores(missing, missing, affinity={0}) == 1
    assert machine.available_memory_bytes(missing, missing, missing) is None
    root, proc = cgroup(tmp_path, {"cpu.max": "garbage", "memory.max": "lots"}, "0::/\n")
    assert machine.cpu_cores(root, proc, affinity={0, 1, 2}) == 3
    assert machine.available_memory_bytes(missing, root, proc) is None


def test_training_slots_follow_the_container_cores(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "cpu_cores", lambda: 4)
    assert slot_count({}) == 2


def test_this_machine_is_read():
    assert 1 <= machine.cpu_cores() <= (__import__("os").cpu_count() or 1)
    free = machine.available_memory_bytes()
    assert free is None or free > 0
