//! UTC calendar time from Unix seconds, for the timestamps the service, its links and our records
//! write (RFC 3339, ISO 8601 basic, file-name stamps). One copy of the calendar arithmetic.

use std::fmt;

/// A UTC date and time to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime {
    /// Year, such as 2026.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
}

impl UtcTime {
    /// The time `unix` seconds after 1970-01-01T00:00:00Z (before it when negative).
    pub fn from_unix(unix: i64) -> Self {
        let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
        // Days to a civil date, proleptic Gregorian (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let seconds = seconds as u32;
        Self { year, month, day, hour: seconds / 3600, minute: seconds % 3600 / 60, second: seconds % 60 }
    }

    /// Now, from the system clock (the epoch if the clock is before it).
    pub fn now() -> Self {
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self::from_unix(i64::try_from(unix).unwrap_or(i64::MAX))
    }

    /// `20260929T134000Z` (ISO 8601 basic, as signed links carry it).
    pub fn basic(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `20260929-134000`, sortable and safe in file names.
    pub fn compact(&self) -> String {
        format!("{:04}{:02}{:02}-{:02}{:02}{:02}", self.year, self.month, self.day, self.hour, self.minute, self.second)
    }
}

/// RFC 3339: `2026-09-29T13:40:00Z`.
impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_civil_utc() {
        assert_eq!(UtcTime::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(UtcTime::from_unix(1_757_469_561).basic(), "20250910T015921Z");
        assert_eq!(UtcTime::from_unix(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(UtcTime::from_unix(1_798_761_599).compact(), "20261231-235959");
        assert_eq!(UtcTime::from_unix(-1).to_string(), "1969-12-31T23:59:59Z");
    }
}
