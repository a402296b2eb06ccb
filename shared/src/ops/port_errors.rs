//! The ports' errors as domain errors, so that operations use `?`: a
//! throttled or unreachable service is `503` with `Retry-After`, anything
//! else an internal error (logged without personal data). Conflicts that
//! an operation expects are matched before they get here.

use crate::domain::error::Error;
use crate::ports::{DocumentError, MailError, SmsError, StoreError};

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable => Error::Unavailable {
                retry_after_secs: 2,
            },
            StoreError::Conflict => Error::Internal("unexpected write conflict".into()),
            StoreError::Other(detail) => Error::Internal(detail),
        }
    }
}

impl From<DocumentError> for Error {
    fn from(err: DocumentError) -> Self {
        match err {
            DocumentError::Unavailable => Error::Unavailable {
                retry_after_secs: 2,
            },
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<MailError> for Error {
    fn from(err: MailError) -> Self {
        match err {
            MailError::Unavailable => Error::Unavailable {
                retry_after_secs: 2,
            },
            MailError::Rejected(detail) => Error::Internal(format!("mail rejected: {detail}")),
        }
    }
}

impl From<SmsError> for Error {
    fn from(err: SmsError) -> Self {
        match err {
            SmsError::Unavailable => Error::Unavailable {
                retry_after_secs: 2,
            },
            SmsError::InvalidNumber => Error::invalid_phone(),
            SmsError::Rejected(detail) => Error::Internal(format!("sms rejected: {detail}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_errors_map_to_the_contract() {
        assert_eq!(Error::from(StoreError::Unavailable).status(), 503);
        assert_eq!(Error::from(StoreError::Conflict).status(), 500);
        assert_eq!(Error::from(StoreError::Other("x".into())).status(), 500);
        assert_eq!(Error::from(DocumentError::Unavailable).status(), 503);
        assert_eq!(Error::from(DocumentError::NotFound).status(), 500);
        assert_eq!(Error::from(MailError::Unavailable).status(), 503);
        assert_eq!(Error::from(MailError::Rejected("x".into())).status(), 500);
    }
}
