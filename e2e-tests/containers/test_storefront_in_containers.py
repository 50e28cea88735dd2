"""The storefront in containers, in a real browser, on http://localhost:8080/.

The bodies are the local stack's own (storefront/test_buying.py and
test_system_view.py), run once more against this folder's `shop`.
"""

from __future__ import annotations

from storefront.test_buying import (  # noqa: F401  (collected and run here as well)
    test_alice_buys_two_products_and_watches_the_order_confirmed_without_a_reload,
)
from storefront.test_system_view import (  # noqa: F401
    test_the_gateway_routes_the_saga_lanes_and_the_dead_letters_are_shown,
)
