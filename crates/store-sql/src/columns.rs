//! Column lists shared by the SQL backends' queries.

/// `columns` (a comma-separated list) with each column qualified by the table alias
/// `alias`, for joins: `qualified("id, email", "u")` is `"u.id, u.email"`.
pub(crate) fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::qualified;

    #[test]
    fn every_column_gets_the_alias_and_the_spacing_is_even() {
        assert_eq!(
            qualified("id, email,\n  role", "u"),
            "u.id, u.email, u.role"
        );
    }
}
