"""The command line answers every failure once, at its entry: Ctrl-C, OSError, a bug;
never a traceback unless asked for.  Real subprocesses, as a user runs scslab."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scslab
from scslab.outputs.checkpoint import checkpoint_path

# long enough to interrupt after its first shard is saved, small enough for a test
SLOW = ["tiny", "--residents", "60000", "--set", "population.units=30", "--shards", "30",
        "--days", "150", "-q"]


def cli(*args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scslab", *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})), **kw)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_ctrl_c_says_how_to_resume_exits_130_and_leaves_a_checkpoint(tmp_path, threads):
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "scslab", "run", *SLOW, "--threads", threads,
                          "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    ckpt = checkpoint_path(out)
    deadline = time.monotonic() + 300
    while not list(ckpt.glob("shard-*.npz")) and p.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert p.poll() is None, p.communicate()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.strip() == f"interrupted; resume with `scslab run --resume {out}`"
    assert (ckpt / "checkpoint.json").is_file() and not out.exists()
    done = len(list(ckpt.glob("shard-*.npz")))
    assert 1 <= done < 30
    r = cli("run", "--resume", out, "-q")
    assert r.returncode == 0, r.stderr
    assert scslab.load_run(out).manifest["resumed"] is True
    assert not ckpt.exists()


def test_ctrl_c_before_a_checkpoint_exists_says_nothing_was_written(tmp_path, capsys):
    """The window between knowing the target and saving the checkpoint is milliseconds
    long, so the boundary is called here directly, with the state that window has."""
    from scslab.cli import common
    from scslab.cli.boundary import run_at_boundary

    def interrupted():
        raise KeyboardInterrupt

    common.resumable(tmp_path / "run")
    try:
        with pytest.raises(SystemExit) as e:
            run_at_boundary(interrupted)
        assert e.value.code == 130
        assert capsys.readouterr().err == "interrupted before the run started; nothing " \
                                          "was written\n"
        checkpoint_path(tmp_path / "run").mkdir()
        (checkpoint_path(tmp_path / "run") / "checkpoint.json").write_text("{}")
        with pytest.raises(SystemExit):
            run_at_boundary(lambda: 130)  # typer's silent exit code for Ctrl-C
        assert "resume with `scslab run --resume" in capsys.readouterr().err
    finally:
        common._resumable.clear()


def test_a_full_disk_while_checkpointing_is_exit_2_with_a_message(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and shutil.which("mount") and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)]).returncode == 0
    if not mounted:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        # the budget would refuse: let the checkpoint itself meet the full disk
        r = cli("run", "tiny", "--residents", "20000", "--days", "200", "--trace",
                "--set", "population.units=4", "--shards", "4", "-q", "--out", disk / "run",
                env={"SCSLAB_BUDGET": "off"})
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr and r.stderr.startswith("error: ")
        assert "the disk is full" in r.stderr, r.stderr
        assert not (disk / "run").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)])


def test_an_os_error_from_a_report_is_exit_2(tmp_path):
    run = tmp_path / "run"
    scslab.run("minimal", out=run, residents=50, days=10, sets=["population.units=1"])
    r = cli("report", run, "-o", tmp_path / ("r" * 300 + ".html"))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: ") and "too long" in r.stderr, r.stderr


BUG = ("import sys, scslab.cli.scenarios as s\n"
       "def broken(*a, **k):\n"
       "    raise KeyError('a bug')\n"
       "s.load_scenario = broken\n"
       "sys.argv = ['scslab', 'validate', 'tiny']\n"
       "from scslab.cli import main\n"
       "main()\n")


def test_a_bug_is_a_short_request_to_report_it_with_exit_3():
    r = subprocess.run([sys.executable, "-c", BUG], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "SCSLAB_DEBUG"})
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("error: this is a bug in scslab, please report it")
    assert "KeyError: 'a bug'" in r.stderr and "SCSLAB_DEBUG=1" in r.stderr
    assert len(r.stderr.splitlines()) == 2
    # with SCSLAB_DEBUG=1, the traceback
    r = subprocess.run([sys.executable, "-c", BUG], capture_output=True, text=True,
                       env=dict(os.environ, SCSLAB_DEBUG="1"))
    assert r.returncode == 3 and "Traceback" in r.stderr and "in broken" in r.stderr


def test_the_console_script_entry_point_is_the_boundary():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'scslab = "scslab.cli:main"' in text
    r = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['scslab', 'validate', "
                        "'nowhere-at-all']\nfrom scslab.cli import main\nmain()"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error: nowhere-at-all")
    from scslab.cli import app

    with pytest.raises(SystemExit) as e:
        app(["validate", "tiny"])
    assert e.value.code == 0


def test_an_interrupt_reported_as_the_cause_of_another_error_is_still_ctrl_c(capsys):
    """Ctrl-C during compiled code on the main thread reaches Python as a SystemError
    whose cause is the KeyboardInterrupt: the answer must be the interrupt's."""
    from scslab.cli.boundary import run_at_boundary

    def compiled_code_returns():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as k:
            raise SystemError("returned a result with an exception set") from k

    with pytest.raises(SystemExit) as e:
        run_at_boundary(compiled_code_returns)
    assert e.value.code == 130
    assert "interrupted" in capsys.readouterr().err
