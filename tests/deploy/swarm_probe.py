"""The swarm test's probe, run inside a container of the project's own image on the stack's overlay
network (tests/deploy/test_swarm_stack.py mounts this file; it needs nothing beyond the standard
library):

  python swarm_probe.py forward 8000=gateway:8000 8025=mailpit:8025 ...
      Listens on each port and hands every connection to one replica of the service, resolved by DNS
      round-robin (endpoint_mode dnsrr) at each connection and picked at random, as a load balancer in
      front of the replicas would. A replica that refuses the connection (it is stopping, or gone while
      the DNS still named it) is skipped for the next one: nothing was sent to it yet, so no request is
      lost or sent twice. The container publishes these ports on the host's 127.0.0.1 only.

  python swarm_probe.py scrape <service> <port>
      Prints {"<address>": "<the replica's /metrics text>"} for every replica of the service.
"""

import json
import random
import socket
import sys
import threading
import urllib.request

CONNECT_TIMEOUT = 5


def replicas(host, port):
    """Every address the name resolves to now (one per running, healthy replica)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def connect_to_a_replica(host, port):
    addresses = replicas(host, port)
    random.shuffle(addresses)
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=CONNECT_TIMEOUT)
        except OSError:
            continue
    raise OSError(f"no replica of {host} accepted a connection ({addresses})")


def pipe(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_one(client, host, port):
    try:
        upstream = connect_to_a_replica(host, port)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)
    client.close()
    upstream.close()


def listen(listen_port, host, port):
    server = socket.create_server(("0.0.0.0", listen_port), backlog=256, reuse_port=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve_one, args=(client, host, port), daemon=True).start()


def forward(routes):
    threads = []
    for route in routes:
        listen_port, target = route.split("=", 1)
        host, port = target.rsplit(":", 1)
        thread = threading.Thread(target=listen, args=(int(listen_port), host, int(port)), daemon=True)
        thread.start()
        threads.append(thread)
    print("forwarding", " ".join(routes), flush=True)
    for thread in threads:
        thread.join()


def scrape(service, port):
    texts = {}
    for address in replicas(service, port):
        with urllib.request.urlopen(f"http://{address}:{port}/metrics", timeout=10) as answer:
            texts[address] = answer.read().decode()
    print(json.dumps(texts))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "forward":
        forward(arguments)
    elif command == "scrape":
        scrape(arguments[0], int(arguments[1]))
    else:
        sys.exit(f"unknown command {command!r}")
