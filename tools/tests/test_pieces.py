import socket

from polyshop_dev.pieces import SPARE_PORTS, free_port, spare_range


def test_a_spare_port_is_below_the_ephemeral_range_and_bindable():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        ephemeral_low = int(ports.read().split()[0])
    port = free_port()
    assert SPARE_PORTS[0] <= port < min(SPARE_PORTS[1], ephemeral_low + 1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_xdist_workers_choose_from_ranges_that_do_not_overlap():
    ranges = [spare_range(f"gw{n}") for n in range(4)]
    ports = [set(range(*r)) for r in ranges]
    assert all(not (a & b) for i, a in enumerate(ports) for b in ports[i + 1 :])
    assert spare_range("") == SPARE_PORTS


def test_a_port_is_not_handed_out_twice():
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
