"""
The floor: a bare Klein application answering ``GET /api/ping``.

It is what Twisted and Klein cost on their own, with nothing of famd: one
route, the default L{twisted.web.server.Site}, the default reactor, no
logging set up.  The benchmark divides famd's throughput by this one's.

Run as ``python floor.py PORT``; it serves on 127.0.0.1 until SIGTERM.
"""

import sys

from klein import Klein
from twisted.internet import endpoints, reactor
from twisted.web.resource import Resource
from twisted.web.server import Site

app = Klein()


@app.route("/ping", methods=["GET", "HEAD"])
def ping(request):
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    return b"pong"


def main(port):
    root = Resource()
    root.putChild(b"api", app.resource())
    site = Site(root)
    endpoints.TCP4ServerEndpoint(reactor, port, interface="127.0.0.1").listen(site)
    reactor.run()


if __name__ == "__main__":
    main(int(sys.argv[1]))
