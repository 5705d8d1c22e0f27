DROP TABLE sheet_reviews, sessions, staff;
