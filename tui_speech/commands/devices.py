"""``tui-speech devices``: the audio input and output devices PortAudio sees.

The index or the name (or a unique part of it) is what ``listen --device`` takes.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("devices", help="list audio input and output devices")
    p.add_argument("--inputs", action="store_true", help="only devices that can record")
    return p


def run(args: argparse.Namespace) -> int:
    from tui_speech.audio.playback import load_sounddevice
    from tui_speech.audio.sources import NO_DEVICE_HINT
    from tui_speech.errors import AudioDeviceError

    sd = load_sounddevice()
    try:
        devices = list(sd.query_devices())
    except Exception as exc:
        raise AudioDeviceError(f"cannot list audio devices ({exc}); {NO_DEVICE_HINT}") from None
    default_in, default_out = -1, -1
    try:
        default_in, default_out = (int(i) for i in sd.default.device)
    except (TypeError, ValueError):
        pass
    if not devices:
        raise AudioDeviceError(f"no audio devices found; {NO_DEVICE_HINT}")
    print(f"{'':2}{'#':>3}  {'IN':>3} {'OUT':>3} {'RATE':>6}  NAME")
    for i, d in enumerate(devices):
        ins, outs = int(d["max_input_channels"]), int(d["max_output_channels"])
        if args.inputs and ins == 0:
            continue
        mark = ("<" if i == default_in else " ") + (">" if i == default_out else " ")
        rate = int(d.get("default_samplerate") or 0)
        print(f"{mark}{i:>3}  {ins:>3} {outs:>3} {rate:>6}  {d['name']}")
    print("< default input, > default output; `listen --device` takes the # or the name")
    return 0
