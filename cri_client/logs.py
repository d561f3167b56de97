"""Container log files, read the way kubelet reads them, for any path.

``Container.logs()`` is the usual way in; these functions serve a log file found
some other way (a saved copy, a pod's log directory):

>>> from cri_client.logs import read_records, render
>>> print(render(read_records("/var/log/pods/default_web_1/web/0.log", tail=10)), end="")

The CRI format (partial records joined) and Docker's JSON format are read, with
rotated files (``.1``, kubelet's ``.<YYYYMMDD-HHMMSS>[.gz]``) as older content.
``follow`` keeps reading as the file grows and across rotation; ``follow_async`` is
its asyncio twin. The records are :class:`cri_client.types.LogRecord` values.
"""

from cri_client._async.support import follow as follow_async
from cri_client._core.logfile import Since, parse_lines, read_records, render
from cri_client._core.public import publish
from cri_client._sync.support import follow

__all__ = ["Since", "follow", "follow_async", "parse_lines", "read_records", "render"]

publish(follow, follow_async, parse_lines, read_records, render, module=__name__)
