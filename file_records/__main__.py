import sys

from file_records.cli import main

sys.exit(main())
