"""``tui-speech models`` as a user runs it: a subprocess against a local fake Hub."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.hub_fixtures import ASR_ID, KOKORO_ID, PRIVATE_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _err(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode()


def _one_line_error(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    err = _err(proc)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-speech: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


def test_list_json_before_and_after_pull(cli, hub_env, hub) -> None:
    proc = cli("models", "list", "--json")
    assert proc.returncode == 0, _err(proc)
    rows = {row["id"]: row for row in json.loads(proc.stdout)}
    assert rows["hexgrad/Kokoro-82M"]["present"] is False
    assert rows["jonatasgrosman/wav2vec2-large-xlsr-53-chinese-zh-cn"]["kind"] == "asr"
    embedded = rows["embedded/kokoro-82m-int8"]
    assert embedded["present"] is True and embedded["variants"] == ["onnx-int8"]
    assert embedded["size"] > 50_000_000 and embedded["kind"] == "tts"

    assert cli("models", "pull", ASR_ID).returncode == 0
    assert cli("models", "pull", KOKORO_ID, "--voices", "af_heart,am_adam").returncode == 0
    rows = {row["id"]: row for row in json.loads(cli("models", "list", "--json").stdout)}
    asr = rows[ASR_ID]
    assert asr["present"] and asr["kind"] == "asr" and asr["variants"] == ["torch"]
    assert asr["commit"] == hub.repos[ASR_ID].commit and asr["revision"] == "main"
    assert asr["verified"] is True and asr["source"] == "hub"
    files = hub.repos[ASR_ID].files
    needed = ("config.json", "model.safetensors", "preprocessor_config.json", "vocab.json")
    assert asr["size"] >= sum(len(files[n]) for n in needed)
    kokoro = rows[KOKORO_ID]
    assert kokoro["present"] and kokoro["kind"] == "tts" and kokoro["voices"] == 2
    assert Path(kokoro["path"], "voices", "am_adam.pt").is_file()

    table = cli("models", "list").stdout.decode()
    assert ASR_ID in table and "torch" in table and "2 voices" in table


def test_pull_prints_path_and_progress_then_path_command(cli, hub_env, hub) -> None:
    proc = cli("models", "pull", ASR_ID)
    assert proc.returncode == 0, _err(proc)
    folder = Path(proc.stdout.decode().strip())
    assert (folder / "model.safetensors").is_file()
    err = _err(proc)
    assert "model.safetensors" in err  # the progress display names the file in flight
    assert f"{ASR_ID}: 4 files" in err and "downloaded" in err

    path = cli("models", "path", ASR_ID)
    assert path.returncode == 0 and path.stdout.decode().strip() == str(folder)
    again = cli("models", "pull", ASR_ID)
    assert "nothing to download" in _err(again)

    _one_line_error(cli("models", "path", KOKORO_ID), 3, f"models pull {KOKORO_ID}")
    _one_line_error(cli("models", "path", "../../etc"), 2, "invalid model id")


def test_hub_errors_are_one_line(cli, hub_env, closed_port_url: str) -> None:
    _one_line_error(cli("models", "pull", "nobody/nothing"), 5, "no such model on the Hub")
    _one_line_error(cli("models", "pull", PRIVATE_ID), 5, "set HF_TOKEN")
    _one_line_error(cli("models", "pull", ASR_ID, "--revision", "v9"), 5, "no revision 'v9'")
    hub_env["HF_TOKEN"] = "hf_wrong"
    _one_line_error(cli("models", "pull", ASR_ID), 5, "rejected HF_TOKEN as invalid")
    hub_env["HF_TOKEN"] = TOKEN
    assert cli("models", "pull", PRIVATE_ID).returncode == 0

    hub_env["HF_ENDPOINT"] = closed_port_url
    _one_line_error(cli("models", "pull", KOKORO_ID), 5, "cannot reach", "models import")
    hub_env["HF_HUB_OFFLINE"] = "1"
    _one_line_error(cli("models", "pull", KOKORO_ID), 5, "HF_HUB_OFFLINE is set")
    listing = json.loads(cli("models", "list", "--json").stdout)
    assert not next(r for r in listing if r["id"] == KOKORO_ID)["present"]


def test_verify_finds_corruption_and_pull_repairs_it(cli, hub_env, hub) -> None:
    assert cli("models", "pull", KOKORO_ID, "--voices", "af_heart").returncode == 0
    ok = cli("models", "verify", KOKORO_ID)
    assert ok.returncode == 0 and "3 files match" in ok.stdout.decode()

    folder = Path(cli("models", "path", KOKORO_ID).stdout.decode().strip())
    pack = folder / "voices" / "af_heart.pt"
    pack.write_bytes(pack.read_bytes()[:-10] + b"0123456789")
    (folder / "config.json").unlink()
    bad = cli("models", "verify", KOKORO_ID)
    assert bad.returncode == 1
    assert bad.stdout.decode().splitlines() == [
        "DAMAGED  voices/af_heart.pt",
        "MISSING  config.json",
    ]
    assert f"repair with: tui-speech models pull {KOKORO_ID}" in _err(bad)
    assert "DAMAGED" in cli("models", "list").stdout.decode()

    served = hub.served.copy()
    assert cli("models", "pull", KOKORO_ID).returncode == 0
    assert cli("models", "verify", KOKORO_ID).returncode == 0
    refetched = {k for k in hub.served if hub.served[k] != served.get(k, 0)}
    assert refetched == {f"{KOKORO_ID}/voices/af_heart.pt", f"{KOKORO_ID}/config.json"}


def test_two_concurrent_pulls_share_one_download(hub_env, hub) -> None:
    hub.throttle_s = 0.05  # slow enough that the second pull surely arrives mid-download
    cmd = [sys.executable, "-m", "tui_speech", "models", "pull", KOKORO_ID]

    def start() -> subprocess.Popen:
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        return subprocess.Popen(cmd, env=hub_env, cwd=ROOT, **pipes)

    first = start()
    while not hub.transfers and first.poll() is None:  # the first pull is downloading
        time.sleep(0.01)
    second = start()
    waiting = second.stderr.readline().decode()
    hub.throttle_s = 0.0  # the second one is queued on the lock: let the first finish
    assert "waiting for another pull of hexgrad/Kokoro-82M" in waiting
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    assert outs[0][0] == outs[1][0]  # both print the same model folder
    assert "nothing to download" in outs[1][1].decode()
    # Every file crossed the wire once: the second process reused the first one's result.
    files = hub.repos[KOKORO_ID].files
    wanted = [n for n in files if n != "README.md"]
    assert {n: hub.served[f"{KOKORO_ID}/{n}"] for n in wanted} == {n: len(files[n]) for n in wanted}
    folder = Path(outs[0][0].decode().strip())
    assert all((folder / n).read_bytes() == files[n] for n in wanted)


def test_bundle_rm_import_verify_round_trip(cli, hub_env, hub, tmp_path: Path) -> None:
    assert cli("models", "pull", ASR_ID).returncode == 0
    bundle = tmp_path / "asr.tar"
    made = cli("models", "bundle", ASR_ID, "-o", str(bundle))
    assert made.returncode == 0, _err(made)
    assert made.stdout.decode().strip() == str(bundle) and bundle.is_file()

    assert cli("models", "rm", ASR_ID).returncode == 0
    _one_line_error(cli("models", "verify", ASR_ID), 3, "not in the model store")

    hub_env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # offline from here on
    imported = cli("models", "import", str(bundle))
    assert imported.returncode == 0, _err(imported)
    assert "verified" in _err(imported)
    ok = cli("models", "verify", ASR_ID)
    assert ok.returncode == 0, _err(ok)
    rows = {r["id"]: r for r in json.loads(cli("models", "list", "--json").stdout)}
    assert rows[ASR_ID]["present"] and rows[ASR_ID]["source"] == "bundle"

    evil = tmp_path / "evil.tar"
    evil.write_bytes(b"\0" * 1024)
    _one_line_error(cli("models", "import", str(evil)), 6, "not a tui-speech bundle")


def test_rm_variant_and_embedded_model(cli, hub_env, hub) -> None:
    assert cli("models", "pull", ASR_ID).returncode == 0
    folder = Path(cli("models", "path", ASR_ID).stdout.decode().strip())
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(b"graph")
    (folder / "onnx" / "model.fp16.onnx").write_bytes(b"graph")
    rows = {r["id"]: r for r in json.loads(cli("models", "list", "--json").stdout)}
    assert rows[ASR_ID]["variants"] == ["torch", "onnx", "onnx-fp16"]

    assert cli("models", "rm", ASR_ID, "--variant", "fp16").returncode == 0
    assert not (folder / "onnx" / "model.fp16.onnx").exists()
    assert (folder / "onnx" / "model.onnx").exists()
    _one_line_error(cli("models", "rm", ASR_ID, "--variant", "fp16"), 2, "no onnx-fp16 variant")
    _one_line_error(cli("models", "rm", "embedded/kokoro-82m-int8"), 2, "cannot be removed")
    assert cli("models", "verify", "embedded/kokoro-82m-int8").returncode == 0
    embedded = cli("models", "path", "embedded/kokoro-82m-int8").stdout.decode().strip()
    assert Path(embedded, "kokoro-v1.0.int8.onnx").is_file()


def test_ctrl_c_cancels_cleanly_and_the_next_pull_resumes(hub_env, hub) -> None:
    import signal

    hub.throttle_s = 0.01
    cmd = [sys.executable, "-m", "tui_speech", "models", "pull", KOKORO_ID]
    proc = subprocess.Popen(
        cmd,
        env=hub_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A shell without job control starts children with SIGINT ignored; a user's
        # terminal does not, so restore the default for Python to install its handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    while hub.served[f"{KOKORO_ID}/kokoro-v1_0.pth"] < 200_000 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled; run the pull again to resume" in err.decode()
    assert "Traceback" not in err.decode()

    hub.throttle_s = 0.0
    done = subprocess.run(cmd, env=hub_env, cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    key = f"{KOKORO_ID}/kokoro-v1_0.pth"
    starts = [start for k, start, _n in hub.transfers if k == key]
    assert len(starts) == 2 and starts[1] > 0  # the second run asked only for the rest


def test_export_prints_the_graph_and_its_parity_quietly(cli, hub_env) -> None:
    _one_line_error(cli("models", "export", ASR_ID), 3, f"models pull {ASR_ID}")
    assert cli("models", "pull", ASR_ID).returncode == 0
    # One subprocess (torch loads once): int8 builds the fp32 graph first, as its source.
    proc = cli("models", "export", ASR_ID, "--quantize", "int8")
    assert proc.returncode == 0, _err(proc)
    graph = Path(proc.stdout.decode().strip())
    assert graph.name == "model.int8.onnx" and (graph.parent / "model.onnx").is_file()
    lines = _err(proc).strip().splitlines()  # no library warnings on the user's terminal
    assert len(lines) == 2 and "int8 variant" in lines[0], lines
    assert "argmax agreement" in lines[1] and "same transcript" in lines[1]
    rows = {r["id"]: r for r in json.loads(cli("models", "list", "--json").stdout)}
    assert rows[ASR_ID]["variants"] == ["torch", "onnx", "onnx-int8"]
