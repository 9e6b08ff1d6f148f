"""What a monitoring page shows, for a server and a hub alike: step-time buckets, history, charts, the page."""
