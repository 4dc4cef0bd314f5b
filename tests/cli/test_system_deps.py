"""``make run`` / ``make test`` check system packages with scripts/system-deps.sh: silent when they
are installed, and one line naming the command to run when they are missing."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "system-deps.sh"
FAKE = "tui-speech-no-such-package"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def test_installed_packages_pass_silently() -> None:
    done = _run("--for", "make test", "dpkg", "bash")  # on every Debian system
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_missing_package_stops_the_tests_with_the_command_to_run() -> None:
    done = _run("--for", "make test", "--dry-run", "bash", FAKE)
    assert done.returncode == 1
    assert f"make test needs system packages that are missing: {FAKE};" in done.stderr
    assert f"apt-get install {FAKE}\n" in done.stderr
    assert "bash" not in done.stderr  # only what is missing is named


def test_run_only_warns() -> None:
    done = _run("--for", "make run", "--warn", "--dry-run", FAKE)
    assert done.returncode == 0
    assert f"sudo apt-get install {FAKE}" in done.stderr


def test_usage_errors() -> None:
    assert _run().returncode == 2
    assert _run("--bogus", "bash").returncode == 2
