//! "Chrome on Linux": a session's device, in words, from the User-Agent it signed in with.

/// A short name for the browser and system in `user_agent`; the raw text (shortened) when
/// neither is recognised.
pub(crate) fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "Unknown device".to_owned();
    };
    match (browser(ua), system(ua)) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A program on {s}"),
        (None, None) => ua.chars().take(60).collect(),
    }
}

/// The browser, most specific first (Edge and Opera also say Chrome; Chrome says Safari).
fn browser(ua: &str) -> Option<&'static str> {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    BROWSERS
        .iter()
        .find(|(m, _)| ua.contains(m))
        .map(|(_, n)| *n)
}

fn system(ua: &str) -> Option<&'static str> {
    const SYSTEMS: &[(&str, &str)] = &[
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    SYSTEMS
        .iter()
        .find(|(m, _)| ua.contains(m))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(describe(Some(chrome)), "Chrome on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(describe(Some(edge)), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(Some(iphone)), "Safari on iOS");
    }

    #[test]
    fn unknown_agents_show_their_own_text() {
        assert_eq!(describe(Some("node")), "node");
        assert_eq!(describe(None), "Unknown device");
    }
}
