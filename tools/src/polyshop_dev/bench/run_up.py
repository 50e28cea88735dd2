"""`make up` (polyshop_dev.up) with its run-time folder moved elsewhere:

    python -m polyshop_dev.bench.run_up FOLDER

The start-up benchmark times a cold start, which needs a fresh Kafka folder
and fresh logs; moving them leaves the developer's own .run/ untouched.
Everything else is `make up` as it is: same code, ports and output.
"""

import sys
from pathlib import Path

from polyshop_dev import up

folder = Path(sys.argv[1])
up.RUN, up.LOGS = folder, folder / "logs"
sys.exit(up.main(sys.argv[2:]))
