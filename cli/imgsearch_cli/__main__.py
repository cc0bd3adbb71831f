import sys

from imgsearch_cli.main import main

sys.exit(main())
