from dms_tui.cli import main

raise SystemExit(main())
