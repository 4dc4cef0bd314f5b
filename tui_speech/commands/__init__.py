"""CLI subcommands; see ``tui_speech.cli`` for the contract each module follows."""
