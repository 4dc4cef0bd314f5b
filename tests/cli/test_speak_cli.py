"""`tui-speech speak / phonemize / voices` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_speak_writes_24khz_audio_files(cli, tmp_path: Path, suffix: str):
    out = tmp_path / "out" / f"hello{suffix}"
    out.parent.mkdir()
    proc = cli("speak", "Hello there, this is a test.", "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    audio, rate = sf.read(out)
    assert rate == 24_000
    assert 1.0 < len(audio) / rate < 6.0
    assert np.abs(audio).max() > 0.05
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp files left


@pytest.mark.slow
def test_speak_reads_stdin_and_speaks_mandarin(cli, tmp_path: Path):
    out = tmp_path / "zh.wav"
    proc = cli("speak", "-", "--lang", "zh", "-o", str(out), stdin="你好，世界。".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert sf.info(out).duration > 0.8


@pytest.mark.slow
def test_wav_stream_on_stdout_starts_before_synthesis_ends(cli_env, tmp_path: Path):
    text = " ".join(f"This is sentence number {n} of a longer text." for n in range(1, 9))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_speech", "speak", text, "-o", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, cwd=ROOT,
    )  # fmt: skip
    header = proc.stdout.read(44)
    first_audio = proc.stdout.read(24_000)  # half a second of 16-bit audio
    still_running = proc.poll() is None
    rest = proc.stdout.read()
    proc.wait(timeout=300)
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt "
    channels, rate = struct.unpack("<HI", header[22:28])
    bits = struct.unpack("<H", header[34:36])[0]
    assert (channels, rate, bits) == (1, 24_000, 16)
    assert header[36:40] == b"data"
    assert len(first_audio) == 24_000
    assert still_running, "audio should flow while later chunks are still being synthesized"
    samples = np.frombuffer(first_audio + rest, dtype="<i2")
    assert len(samples) / 24_000 > 15  # eight sentences


@pytest.mark.slow
def test_phoneme_input_and_voice_blend(cli, tmp_path: Path):
    out = tmp_path / "p.wav"
    proc = cli(
        "speak", "həlˈO wˈɜɹld.", "--phonemes", "--voice", "jf_alpha:0.6,jm_kumo:0.4",
        "--speed", "1.2", "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert sf.info(out).duration > 0.4


def test_phonemize_json_reports_tokens_and_out_of_vocab(cli):
    proc = cli("phonemize", "It is [good](/gʊd/).", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert data["out_of_vocab"] == ["g"]
    good = next(t for t in data["tokens"] if t["grapheme"] == "good")
    assert good == {"grapheme": "good", "phonemes": "gʊd", "whitespace": "", "known": True,
                    "override": True, "lexicon": False}  # fmt: skip


def test_phonemize_prints_phonemes(cli):
    proc = cli("phonemize", "你好", "--lang", "zh")
    assert proc.returncode == 0
    assert proc.stdout.decode().strip() == "ni↗xau↓"  # third-tone sandhi: ni2 hao3


def test_voices_lists_and_saves_blends(cli):
    proc = cli("voices", "save", "duo", "jf_alpha:1,jm_kumo:1")
    assert proc.returncode == 0, proc.stderr.decode()
    listed = json.loads(cli("voices", "--json").stdout)
    by_name = {v["name"]: v for v in listed}
    assert by_name["duo"]["source"] == "blend"
    assert by_name["jm_kumo"]["gender"] == "male"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("speak", "   "), ("empty",)),
        (("speak", "hi", "--voice", "nobody", "-o", "x.wav"), ("unknown voice", "jf_alpha")),
        (("speak", "hi", "--lang", "klingon"), ("unknown language",)),
        (("speak", "hi", "--voice", "jf_alpha:0.5,", "-o", "x.wav"), ("malformed",)),
        (("speak", "hi", "--speed", "2.5", "-o", "x.wav"), ("out of range", "0.5")),
        (("speak", "hi", "--speed", "0.1", "-o", "x.wav"), ("out of range",)),
        (("speak", "hi", "-o", "/no/such/dir/x.wav"), ("does not exist",)),
        (("speak", "hi", "-o", "x.aiff"), (".wav", ".opus", ".mp3")),
        (("speak", "Hi [pause:2x] there", "-o", "x.wav"), ("[pause:2x]", "character 4")),
        (("speak", "--file", "missing.md", "-o", "x.wav"), ("does not exist",)),
        (("speak", "--file", "notes.docx"), (".txt or .md",)),
        (("lexicon", "add", "tomato", "təmˈAtgoʊ"), ("not know: g",)),
        (("lexicon", "add", "银行", "yin9 hang2", "--lang", "zh"), ("pinyin",)),
        (("lexicon", "rm", "nothing"), ("not in the en-us lexicon",)),
        (("speak", "😀🎉\x01", "-o", "x.wav"), ("nothing to say",)),
        (("speak", "ひらがなです", "-o", "x.wav"), ("nothing to say", "--lang ja")),
        (("phonemize", ""), ("empty",)),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(cli, args, needles):
    _one_line_error(cli(*args), *needles)


def test_unwritable_output_is_refused_before_synthesis(cli, tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = cli("speak", "hi", "-o", str(locked / "x.wav"))
        if proc.returncode == 0:  # root ignores permissions: the file must then be valid
            assert sf.info(locked / "x.wav").samplerate == 24_000
        else:
            _one_line_error(proc, "permission denied")
    finally:
        locked.chmod(0o700)


def test_playing_without_an_audio_device_says_how_to_save_instead(cli_env, tmp_path: Path):
    # No sound card here, and no PulseAudio server a test fixture may have started elsewhere.
    env = dict(cli_env, PULSE_SERVER="unix:/nonexistent")
    proc = subprocess.run(
        [sys.executable, "-m", "tui_speech", "speak", "hello"],
        capture_output=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    _one_line_error(proc, "-o")


def test_invalid_utf8_on_stdin_is_a_clear_error(cli):
    _one_line_error(cli("speak", "-", "-o", "x.wav", stdin=b"\xff\xfe\xfa"), "UTF-8")


@pytest.mark.slow
def test_saved_audio_gets_the_users_normal_file_mode(cli, tmp_path: Path):
    out = tmp_path / "out.wav"
    assert cli("speak", "Hi.", "-o", str(out)).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_ctrl_c_while_writing_a_file_leaves_nothing_behind(cli_env, tmp_path: Path):
    import signal
    import time

    out = tmp_path / "out" / "long.wav"
    out.parent.mkdir()
    text = " ".join(f"This is sentence number {n} of a long text." for n in range(40))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_speech", "speak", text, "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any(out.parent.iterdir()) and time.monotonic() < deadline:  # writing has begun
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err.decode()
    assert list(out.parent.iterdir()) == []


def test_lexicon_add_list_rm_and_what_phonemize_reads(cli, isolated_home: Path):
    default = cli("phonemize", "Kokoro speaks.").stdout.decode().strip()
    assert cli("lexicon", "add", "Kokoro", "kˈOkəɹO").returncode == 0
    # Mandarin from pinyin with tone numbers, read the way the entry says (not 银行 hang2).
    assert cli("lexicon", "add", "银行", "yin2 xing2", "--lang", "zh").returncode == 0
    listed = json.loads(cli("lexicon", "list", "--json").stdout)
    assert {(e["lang"], e["word"], e["pronunciation"]) for e in listed} == {
        ("en-us", "Kokoro", "kˈOkəɹO"), ("zh", "银行", "yin2 xing2"),
    }  # fmt: skip
    assert cli("phonemize", "Kokoro speaks.").stdout.decode().startswith("kˈOkəɹO ")
    data = json.loads(cli("phonemize", "我去银行。", "--lang", "zh", "--json").stdout)
    bank = next(t for t in data["tokens"] if t["grapheme"] == "银行")
    assert bank["phonemes"] == "i↗nɕi↗ŋ" and bank["lexicon"] and not bank["override"]
    assert "银行 = yin2 xing2" in (isolated_home / "config" / "lexicon.txt").read_text()
    assert cli("lexicon", "rm", "Kokoro").returncode == 0
    assert cli("phonemize", "Kokoro speaks.").stdout.decode().strip() == default


@pytest.mark.slow
def test_speak_file_writes_one_opus_per_chapter(cli, tmp_path: Path):
    draft = tmp_path / "book.md"
    draft.write_text("# One\nThe first chapter. [pause:300ms]\n# Two\nThe second, かな.\n")
    proc = cli("speak", "--file", str(draft), "-o", str(tmp_path / "book.opus"), "--chapters")
    assert proc.returncode == 0, proc.stderr.decode()
    # What G2P warned of is said when writing files too, once.
    assert proc.stderr.decode().count("Japanese (ja) reads them") == 1
    for name in ("book-01.opus", "book-02.opus"):
        audio, rate = sf.read(tmp_path / name)
        assert rate == 24_000 and len(audio) / rate > 0.5 and np.abs(audio).max() > 0.05
