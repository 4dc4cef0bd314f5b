"""A private PulseAudio daemon with a virtual microphone, for testing capture through PortAudio.

The daemon runs in the foreground of its own runtime folder (no system instance, no D-Bus, no
cookie: anonymous auth on its own socket), with a 16 kHz null sink ``tts`` and ``mic``, a source
remapped from the sink's monitor: what ``paplay -d tts`` plays, ``mic`` hears. PortAudio reaches
it through ALSA's pulse plugin: an ``.asoundrc`` in the daemon's HOME declares the ALSA device
``tts_mic`` on that source, which ``tui-speech devices`` lists and ``listen --device`` opens.
Running as root needs no special flag for a per-user (non ``--system``) daemon: it only warns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

__all__ = ["pulse_env", "ALSA_DEVICE"]

ALSA_DEVICE = "tts_mic"
ASOUNDRC = """pcm.tts_mic {
    type pulse
    device mic
    hint { show on description "tui-speech test microphone" }
}
"""


@pytest.fixture(scope="session")
def pulse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment variables that point PulseAudio clients and ALSA at the private daemon."""
    for tool in ("pulseaudio", "paplay"):
        if shutil.which(tool) is None:
            # A missing tool is a broken set-up (.ci/run installs it), never a silent skip.
            pytest.fail(f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)")
    folder = tmp_path_factory.mktemp("pulse")
    socket = folder / "native"
    (folder / ".asoundrc").write_text(ASOUNDRC)
    env = dict(os.environ)
    env.update(
        HOME=str(folder),
        XDG_RUNTIME_DIR=str(folder),
        PULSE_RUNTIME_PATH=str(folder),
        PULSE_SERVER=f"unix:{socket}",
    )
    log = open(folder / "daemon.log", "wb")  # noqa: SIM115 (closed below)
    daemon = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "--system=false",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--use-pid-file=no",
            "-n",  # no default.pa: only the modules below
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
            "--load=module-null-sink sink_name=tts rate=16000 channels=1",
            "--load=module-remap-source master=tts.monitor source_name=mic",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            ok = subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0
            if ok:
                break
            if daemon.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "PulseAudio did not start: " + (folder / "daemon.log").read_text()[-2000:]
                )
            time.sleep(0.1)
        yield env
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
