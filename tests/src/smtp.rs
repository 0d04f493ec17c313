//! A real SMTP server for the tests: Python's aiosmtpd (`tests/smtp/server.py`) with
//! STARTTLS and AUTH required, its certificate issued by a CA the test makes, each
//! message kept as a file.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

/// A running mail server.
pub struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The CA that issued its certificate (PEM file).
    pub ca: PathBuf,
}

/// The account the gateway logs in with.
pub const USER: &str = "motcua@laocai.gov.vn";
/// Its password.
pub const PASSWORD: &str = "mat-khau-thu-nghiem";

impl SmtpServer {
    /// Starts the server on a free port.
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap()).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("ca.pem"), ca.pem()).unwrap();
        std::fs::write(path("cert.pem"), cert.pem()).unwrap();
        std::fs::write(path("key.pem"), key.serialize_pem()).unwrap();
        std::fs::create_dir(path("mail")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .args([path("cert.pem"), path("key.pem")])
            .args([USER, PASSWORD])
            .arg(path("mail"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the SMTP server (tests/run installs aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server starts");
        let ca = path("ca.pem");
        SmtpServer { child, dir, port, ca }
    }

    /// The messages received, oldest first, each as its raw text.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> =
            std::fs::read_dir(self.dir.path().join("mail")).unwrap().flatten().map(|e| e.path()).collect();
        files.retain(|f| f.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files.iter().map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a message's body, its quoted-printable or base64 undone.
pub fn body_text(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    if head.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    body.to_owned()
}
