# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ssh's ProxyCommand in the SSH lab: run inside a node's namespace (ip netns exec NODE), it
connects to ADDRESS PORT there and relays the connection over its stdin and stdout."""

import os
import socket
import sys
import threading


def main():
    address, port = sys.argv[1], int(sys.argv[2])
    conn = socket.create_connection((address, port), timeout=10)
    conn.settimeout(None)

    def upstream():
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, daemon=True).start()
    while True:
        data = conn.recv(65536)
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
