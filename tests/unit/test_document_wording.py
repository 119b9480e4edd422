"""The wording rules of the round's documents, without a database: titles broken where they read
well, the figures sentence drawn from the round's work records, weeks of the burn-down, months ahead."""
from datetime import date

from engine.clock import add_months
from engine.ledger.activities import activity_figures
from engine.reports.progress import title_lines
from engine.reports.trend import week_ends


def test_a_title_breaks_after_the_issuer_when_it_is_long():
    assert title_lines("某局党组", "市委第三巡察组", "整改情况的报告") == ["某局党组关于市委第三巡察组", "巡察反馈意见整改情况的报告"]
    assert title_lines("中共市政工程管理处委员会", "市委第三巡察组", "整改情况的报告") == [
        "中共市政工程管理处委员会", "关于市委第三巡察组巡察反馈意见", "整改情况的报告"]
    assert all(len(line) <= 20 for line in title_lines("中共某某市城市管理局党组", "市委第一巡察组", "整改进展情况的通报"))


def test_the_figures_count_each_kind_in_a_fixed_order_and_say_nothing_without_records():
    records = [{"kind": k} for k in ("制定制度", "党组会", "督查", "党组会", "修订制度", "修订制度")]
    assert activity_figures(records) == "整改期间，召开党组（党委）会议专题研究2次，开展督查督办1次，新建制度1项，修订完善制度2项。"
    assert activity_figures([]) == ""


def test_weeks_end_on_sundays_and_today_is_the_last_point():
    assert week_ends(date(2026, 11, 2), date(2026, 11, 18)) == [date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 18)]
    assert week_ends(date(2026, 11, 2), date(2026, 11, 15)) == [date(2026, 11, 8), date(2026, 11, 15)]
    assert len(week_ends(date(2020, 1, 1), date(2026, 1, 1))) == 60  # the oldest weeks are dropped


def test_two_months_after_feedback_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 5, 20), 2) == date(2026, 7, 20)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
