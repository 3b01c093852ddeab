# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Relays each lab cluster's kube-apiserver into its node namespaces.

The API servers listen on 127.0.0.1 of the root namespace, which a node namespace cannot reach.
This one process opens, inside every node namespace, a listener on 127.0.0.1 at the API server's
own port, and relays each connection to the API server. A program in a node namespace (kube-proxy,
kube-router) then uses the cluster's kubeconfig unchanged, and TLS still ends at the API server
(its certificate names 127.0.0.1).

    python api_relay.py --folder=RUN_FOLDER NAMESPACE=PORT ...
"""

import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


HOME = os.open("/proc/self/ns/net", os.O_RDONLY)  # the namespace the relay connects from


def setns(fd, what):
    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns %s: %s" % (what, os.strerror(err)))


def listener_in(namespace, port):
    """A listening socket on 127.0.0.1:port inside the namespace (a socket keeps the namespace it
    was made in)."""
    fd = os.open("/run/netns/%s" % namespace, os.O_RDONLY)
    try:
        setns(fd, namespace)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        return sock
    finally:
        os.close(fd)
        setns(HOME, "back")


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def serve(listener, port):
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def main(argv):
    listeners = []
    for item in argv:
        if item.startswith("--folder="):  # names the lab's folder on the command line (how its PID is known)
            continue
        namespace, port = item.rsplit("=", 1)
        listeners.append((listener_in(namespace, int(port)), int(port)))
    for listener, port in listeners:
        threading.Thread(target=serve, args=(listener, port), daemon=True).start()
    print("api_relay: relaying %d namespace(s)" % len(listeners), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
