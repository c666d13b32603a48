"""The big-LA work-list measure of `make bench` runs end to end (small here; no duration is asserted)."""
from bench import big_la


async def test_the_big_la_measure_seeds_an_la_and_reports_each_figure(urls, databases, settings):
    result = await big_la.measure(databases["la_tracker"], urls["la_tracker"], settings.jwt_secret.get_secret_value(),
                                  la="886", n=300, rounds=2)
    assert result["big_la_open_cases"] == 300
    for figure in ("big_la_queue_p95_ms", "big_la_name_search_p95_ms", "big_la_my_cases_p95_ms",
                   "big_la_csv_export_s"):
        assert result[figure] > 0, figure
