from tui_speech.cli import main

raise SystemExit(main())
