//! The web pages as an operator's browser reaches them, over plain HTTPS without a
//! browser: the login form's cookie and CSRF token, the session cookie, and requests
//! from a chosen loopback address (the whole of 127.0.0.0/8 is this machine), so that
//! tests can log in from several "places".

use std::net::IpAddr;

use crate::Gateway;

/// A page as answered: status, `Location`, the cookies set, and the body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    /// `name=value` of every cookie set.
    pub cookies: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The value of cookie `name`, if it was set.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A browser without a browser: one address, its cookies.
pub struct Pages {
    http: reqwest::Client,
    base: String,
    /// The session cookie, once logged in.
    pub session: Option<String>,
}

/// The value of the hidden `csrf` input of a form.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Answer { status, location, cookies, body: response.text().await.unwrap_or_default() }
}

impl Pages {
    /// A browser at `address` (a loopback address) for `gw`.
    pub fn at(gw: &Gateway, address: IpAddr) -> Pages {
        let http = gw
            .client_builder()
            .local_address(address)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTPS client");
        Pages { http, base: gw.url(""), session: None }
    }

    /// A browser at 127.0.0.1.
    pub fn new(gw: &Gateway) -> Pages {
        Pages::at(gw, IpAddr::from([127, 0, 0, 1]))
    }

    /// Submits the login form as `name` with `password`; keeps the session cookie on
    /// success (303 to `/ui`).
    pub async fn login(&mut self, name: &str, password: &str) -> Answer {
        let form = answer(self.http.get(format!("{}/ui/dang-nhap", self.base)).send().await.expect("the form")).await;
        let nonce = form.cookie("motcua_dang_nhap").expect("the login form's cookie").to_owned();
        let csrf = csrf_of(&form.body).expect("the login form's token");
        let submitted = self
            .http
            .post(format!("{}/ui/dang-nhap", self.base))
            .header("cookie", format!("motcua_dang_nhap={nonce}"))
            .form(&[("ten", name), ("mat_khau", password), ("csrf", csrf.as_str())])
            .send()
            .await
            .expect("the login answers");
        let answer = answer(submitted).await;
        if let Some(session) = answer.cookie("motcua_phien").filter(|v| !v.is_empty()) {
            self.session = Some(session.to_owned());
        }
        answer
    }

    /// `GET path` with the session cookie.
    pub async fn get(&self, path: &str) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(session) = &self.session {
            request = request.header("cookie", format!("motcua_phien={session}"));
        }
        answer(request.send().await.expect("the page answers")).await
    }

    /// `POST path` with the session cookie and `csrf`.
    pub async fn post(&self, path: &str, csrf: &str) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(&[("csrf", csrf)]);
        if let Some(session) = &self.session {
            request = request.header("cookie", format!("motcua_phien={session}"));
        }
        answer(request.send().await.expect("the page answers")).await
    }
}
