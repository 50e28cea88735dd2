import json
import logging

from polyshop_common.logs import configure_logging


def test_each_record_is_one_json_line_with_service_and_extra_fields(capsys):
    configure_logging("catalog")
    try:
        logging.getLogger("catalog.views").info("served %s", "x", extra={"status": 200})
    finally:
        logging.getLogger().handlers.clear()
    entry = json.loads(capsys.readouterr().out.strip())
    assert entry["service"] == "catalog"
    assert entry["message"] == "served x"
    assert entry["status"] == 200
    assert entry["level"] == "info"
