//! E-mail to citizens over SMTP, with STARTTLS on the submission port or TLS from
//! the first byte, and the account's credentials.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};

use crate::outbound::CallOutcome;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Why a mail account could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EmailError(String);

/// An SMTP account that sends the gateway's messages.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender").field("from", &self.from.email.to_string()).finish()
    }
}

/// What an `EmailSender` needs.
pub struct EmailAccount<'a> {
    /// The server's host name (also the name its certificate must carry).
    pub host: &'a str,
    /// Its port.
    pub port: u16,
    /// STARTTLS or TLS.
    pub security: Security,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// `From:`, e.g. `Trung tâm Phục vụ hành chính công tỉnh <motcua@example.gov.vn>`.
    pub from: &'a str,
    /// Extra CA certificates to trust (PEM).
    pub ca_pem: Option<&'a [u8]>,
    /// Timeout of one exchange.
    pub timeout: Duration,
}

impl EmailSender {
    /// Prepares the account; nothing is connected until the first message.
    pub fn new(account: EmailAccount<'_>) -> Result<EmailSender, EmailError> {
        let from: Mailbox = account.from.parse().map_err(|e| EmailError(format!("from: {e}")))?;
        let mut tls = TlsParameters::builder(account.host.to_owned());
        if let Some(pem) = account.ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| EmailError(format!("ca_file: {e}")))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| EmailError(format!("TLS: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(account.host)
            .port(account.port)
            .timeout(Some(account.timeout))
            .tls(match account.security {
                Security::StartTls => Tls::Required(tls),
                Security::Tls => Tls::Wrapper(tls),
            });
        if let Some((user, password)) = account.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(EmailSender { transport: builder.build(), from })
    }

    /// Sends a plain-text message to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> CallOutcome {
        let to: Mailbox = match to.parse() {
            Ok(to) => to,
            Err(_) => return CallOutcome::Rejected { reason: "the applicant's e-mail address is not valid".into() },
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body);
        let message = match message {
            Ok(m) => m,
            Err(e) => return CallOutcome::Rejected { reason: format!("the message cannot be built: {e}") },
        };
        match self.transport.send(message).await {
            Ok(response) => CallOutcome::Accepted {
                status: u16::from(response.code()),
                body: bytes::Bytes::from(response.message().collect::<Vec<_>>().join(" ")),
            },
            // The server's words may repeat the address: only its code is kept.
            Err(e) if e.is_permanent() => CallOutcome::Rejected {
                reason: format!("the mail server refused the message ({})", e.status().map_or(0, u16::from)),
            },
            Err(e) => CallOutcome::Retry {
                reason: match e.status() {
                    Some(code) => format!("the mail server deferred the message ({})", u16::from(code)),
                    None if e.is_timeout() => "the mail server did not answer in time".into(),
                    None => "the mail server could not be reached or its TLS failed".into(),
                },
                retry_after: None,
            },
        }
    }
}
