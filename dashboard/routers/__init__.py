"""One router per area of the API; dashboard.app includes them."""
