"""A TCP relay in the test's process that holds every chunk a client sends for `delay` seconds
before passing it to the server: pointed at a lab API server (TLS still ends there), it makes
each request of a run take a known time, so that a test can act between two requests of one
run (the cluster engine itself answers within milliseconds)."""
import socket
import threading
import time


class SlowRelay:
    def __init__(self, target_port, delay):
        self.target = ("127.0.0.1", target_port)
        self.delay = delay
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            threading.Thread(target=self.pipe, args=(client, server, self.delay), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, 0), daemon=True).start()

    def pipe(self, source, sink, delay):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
