//! A real browser for the pages' tests: Debian's headless Chromium driven through
//! ChromeDriver with the `fantoccini` WebDriver client, started on a free port with
//! a profile of its own and stopped when dropped.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::json;

/// A browser session.
pub struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium that accepts the gateway's
    /// development certificate.
    pub async fn start() -> Browser {
        let port = free_port();
        use std::os::unix::process::CommandExt;
        // A process group of its own, so that the browsers it starts end with it.
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (tests/run installs Debian's chromium-driver)");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client");
        let root = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{root}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1366,1000",
            "--lang=vi-VN",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!("an object") };
        // ChromeDriver answers plain HTTP on loopback: no TLS on this side.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&root)
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}"));
        Browser { client, driver, _profile: profile }
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default()
    }

    /// The elements matching a CSS selector.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// The first element matching a CSS selector, waiting up to five seconds for it
    /// (a form's submission may still be loading its answer).
    pub async fn find(&self, css: &str) -> Element {
        for _ in 0..50 {
            if let Some(found) = self.all(css).await.into_iter().next() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (url, source) = (self.url().await, self.client.source().await.unwrap_or_default());
        panic!("no element {css:?} on {url}:\n{source}")
    }

    /// The visible text of an element.
    pub async fn text(&self, element: &Element) -> String {
        element.text().await.unwrap_or_else(|e| panic!("the text of an element: {e}"))
    }

    /// The visible text of the first element matching a CSS selector.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.text(&element).await
    }

    /// Clicks an element that leads to another page, and waits until the page it was
    /// on is gone (so that what is read next is read from the new one).
    pub async fn click(&self, element: &Element) {
        let page = self.all("html").await.into_iter().next();
        element.click().await.unwrap_or_else(|e| panic!("a click: {e}"));
        let Some(page) = page else { return };
        for _ in 0..100 {
            // The old page's root answers until the new page replaces it.
            if page.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the click did not lead to another page");
    }

    /// Types into an element.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        element.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// The value of a cookie of the current page.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.client.get_named_cookie(name).await.ok().map(|c| c.value().to_owned())
    }

    /// Saves a PNG screenshot of the window.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("a screenshot: {e}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        std::fs::write(path, png).expect("the screenshot is written");
    }

    /// Logs in through the login form.
    pub async fn log_in(&self, base: &str, name: &str, password: &str) {
        self.goto(&format!("{base}/ui/dang-nhap")).await;
        self.type_into("#ten", name).await;
        self.type_into("#mat_khau", password).await;
        let submit = self.find("#dang-nhap").await;
        self.click(&submit).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.driver.id()) {
            // SAFETY: kill(2) on the process group this harness started.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.driver.wait();
    }
}
