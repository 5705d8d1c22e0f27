DROP TABLE reports, report_state;
