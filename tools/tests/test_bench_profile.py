"""The profile report's reading of py-spy's and V8's output, from hand-made samples."""

from polyshop_dev.bench.profile import node_samples, python_samples

SITE = "/work/.venv/lib/python3.11/site-packages"


def test_python_self_time_is_counted_by_the_frame_on_top(tmp_path):
    collapsed = tmp_path / "orders.pyspy"
    collapsed.write_text(
        f'process 7:"gunicorn";run (/work/services/orders/src/orders/views.py:10);'
        f"validate ({SITE}/jsonschema/validators.py:300) 30\n"
        f'process 7:"gunicorn";run (/work/services/orders/src/orders/views.py:10);'
        f"validate ({SITE}/jsonschema/validators.py:301) 10\n"
        f'process 8:"gunicorn";wait (/usr/lib/python3.11/threading.py:320) 5\n'
        f'process 8:"gunicorn";run (/work/services/orders/src/orders/views.py:12) 2\n'
    )
    samples = python_samples(collapsed)
    assert samples[("jsonschema", "validate (jsonschema/validators.py)")] == 40
    assert samples[("stdlib threading", "wait (threading.py)")] == 5
    assert samples[("orders", "run (orders/views.py)")] == 2
    assert sum(samples.values()) == 47


def test_a_missing_python_profile_has_no_samples(tmp_path):
    assert not python_samples(tmp_path / "none.pyspy")


def frame(node_id, name, url="", children=()):
    return {
        "id": node_id,
        "callFrame": {"functionName": name, "url": url, "lineNumber": 9},
        "children": list(children),
    }


def test_node_samples_in_the_load_only_and_not_idle():
    modules = "file:///work/node_modules"
    profile = {
        "nodes": [
            frame(1, "(root)", children=[2, 3, 4]),
            frame(2, "(idle)"),
            frame(3, "parse", f"{modules}/kafkajs/src/protocol/fetch.js"),
            frame(4, "prepare", f"{modules}/better-sqlite3/lib/methods/wrappers.js"),
        ],
        "startTime": 1_000_000,  # microseconds: 1.0 s on the monotonic clock
        # at 1.1, 1.2 (before the load), 2.1, 2.2, 2.3, 2.4 (in it), 3.5 (after)
        "samples": [3, 3, 3, 2, 4, 4, 3],
        "timeDeltas": [100_000, 100_000, 900_000, 100_000, 100_000, 100_000, 1_100_000],
    }
    samples = node_samples(profile, (2.0, 3.0))
    assert samples == {
        ("kafkajs", "parse (kafkajs/src/protocol/fetch.js:10)"): 1,
        ("better-sqlite3", "prepare (better-sqlite3/lib/methods/wrappers.js:10)"): 2,
    }
