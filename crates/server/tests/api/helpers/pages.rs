//! A browser-like client of the hosted pages: keeps cookies, reads the CSRF token from the
//! page it loaded, posts forms with the site's `Origin`, never follows redirects.

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};

use super::{client_builder, TestApp};

/// A page as read: status, headers and HTML.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) html: String,
}

impl Page {
    pub(crate) async fn of(res: Response) -> Page {
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            html: res.text().await.expect("a readable body"),
        }
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
    }

    /// Every `Set-Cookie` value.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The CSRF token of the page's forms.
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .html
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.html))
            + marker.len();
        let end = self.html[start..].find('"').expect("a closing quote") + start;
        self.html[start..end].to_owned()
    }
}

/// A browser of `app`'s pages with a cookie jar of its own.
pub(crate) struct PageBrowser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) client: reqwest::Client,
}

impl TestApp {
    /// A fresh browser of the pages.
    pub(crate) fn pages(&self) -> PageBrowser<'_> {
        PageBrowser {
            app: self,
            client: client_builder()
                .cookie_store(true)
                .build()
                .expect("a reqwest client"),
        }
    }
}

impl PageBrowser<'_> {
    pub(crate) async fn get(&self, path: &str) -> Page {
        let res = self.client.get(self.app.url(path)).send().await;
        Page::of(res.expect("GET sent")).await
    }

    /// Posts `fields` as a form, from the site's own origin, as a browser does.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_from(path, fields, Some(&self.app.address)).await
    }

    /// Posts `fields` with the given `Origin` header (`None`: none).
    pub(crate) async fn post_from(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut req = self.client.post(self.app.url(path)).form(fields);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        Page::of(req.send().await.expect("POST sent")).await
    }

    /// Loads `form_path`, then posts `fields` with its CSRF token to `action`.
    pub(crate) async fn submit(
        &self,
        form_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        let csrf = self.get(form_path).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Signs in through `/login` (with `rd` if given); the answer to the form.
    pub(crate) async fn sign_in(&self, login: &str, password: &str, rd: Option<&str>) -> Page {
        let mut fields = vec![("identifier", login), ("password", password)];
        if let Some(rd) = rd {
            fields.push(("rd", rd));
        }
        self.submit("/login", "/login", &fields).await
    }
}
