"""The API's routes, one module per concern; `search_api.app` includes them."""
