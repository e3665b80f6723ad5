"""Report files in the reports bucket: ``weekly/<ISO week>/report.json`` and ``report.csv``."""

from __future__ import annotations

from callsight.config import Settings
from callsight.reports.weekly import WeeklyReport, report_csv
from callsight.resources import REPORTS_BUCKET
from callsight.storage import aws


def weekly_report_keys(week: str) -> tuple[str, str]:
    return f"weekly/{week}/report.json", f"weekly/{week}/report.csv"


class ReportStore:
    def __init__(self, settings: Settings) -> None:
        self._s3 = aws.client("s3", settings)
        self.bucket = REPORTS_BUCKET.physical(settings)

    def put_weekly(self, report: WeeklyReport) -> tuple[str, str]:
        """Write the report as JSON and CSV (a rerun for the same week writes new object versions)."""
        json_key, csv_key = weekly_report_keys(report.week)
        self._s3.put_object(
            Bucket=self.bucket,
            Key=json_key,
            Body=report.model_dump_json(indent=2).encode("utf-8"),
            ContentType="application/json",
        )
        self._s3.put_object(
            Bucket=self.bucket,
            Key=csv_key,
            Body=report_csv(report).encode("utf-8"),
            ContentType="text/csv; charset=utf-8",
        )
        return json_key, csv_key

    def get_weekly(self, week: str) -> WeeklyReport:
        body = self._s3.get_object(Bucket=self.bucket, Key=weekly_report_keys(week)[0])["Body"].read()
        return WeeklyReport.model_validate_json(body)
