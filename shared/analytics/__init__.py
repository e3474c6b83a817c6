"""Analytics and reports: daily rollups, dashboards, learners at risk, exports, charts and weekly digests."""
