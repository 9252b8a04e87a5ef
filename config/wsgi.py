"""The WSGI application (gunicorn, and runserver through WSGI_APPLICATION).

Loading it drains the ledger queue once: each gunicorn worker and runserver sequence what a
crashed process left queued before serving (ledger/recovery.py). Then the objects made at
start-up are frozen out of the garbage collector's full passes (config/heap.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from ledger.recovery import queue_drain_at_start  # noqa: E402  (needs the settings loaded above)

queue_drain_at_start("web")

from config.heap import freeze_startup_heap  # noqa: E402

freeze_startup_heap()
