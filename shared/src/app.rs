//! What a request needs from the process: the ports and the configuration.
//! Built once per cold start and shared by every invocation.

use std::sync::Arc;

use crate::aws::Clients;
use crate::aws::app_io::AppIoClient;
use crate::aws::dynamo::DynamoStore;
use crate::aws::s3::S3Documents;
use crate::aws::ses::SesMailer;
use crate::aws::sns::SnsTexter;
use crate::config::Config;
use crate::ports::{
    AppIo, ChallengeList, Clock, DocumentStorage, Mailer, Store, SystemClock, Texter,
};

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn Texter>,
    pub documents: Arc<dyn DocumentStorage>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// The web ACL's challenge list, where this function keeps it (the
    /// scheduled one; `ops::code_volume`).
    pub challenges: Option<Arc<dyn ChallengeList>>,
    /// App IO, where the deployment keeps the comuni's service keys.
    pub app_io: Option<Arc<dyn AppIo>>,
    /// The comuni's configurations this process read lately.
    pub tenants: Arc<crate::cache::TenantCache>,
}

impl App {
    /// The production wiring: AWS adapters over the given clients.
    pub fn with_aws(clients: &Clients, config: Config, clock: Arc<dyn Clock>) -> Self {
        Self {
            store: Arc::new(DynamoStore::new(
                clients.dynamodb.clone(),
                config.table_name.clone(),
            )),
            mailer: Arc::new(SesMailer::new(
                clients.ses.clone(),
                config.mail_from.clone(),
            )),
            sms: Arc::new(SnsTexter::new(
                clients.sns.clone(),
                config.sms_sender_id.clone(),
            )),
            documents: Arc::new(S3Documents::new(
                clients.s3.clone(),
                config.bucket_name.clone(),
            )),
            app_io: config.app_io_secret_prefix.as_deref().map(|prefix| {
                Arc::new(AppIoClient::new(
                    clients.secrets.clone(),
                    &config.app_io_url,
                    prefix,
                    config.app_io_key_ttl,
                )) as Arc<dyn AppIo>
            }),
            clock,
            tenants: Arc::default(),
            config: Arc::new(config),
            challenges: None,
        }
    }

    /// From the environment, as a Lambda function starts.
    pub async fn from_env() -> Result<Self, String> {
        Self::from_sdk_config(&crate::aws::sdk_config_from_env().await)
    }

    /// As `from_env`, on an SDK configuration the caller keeps (for a
    /// client of its own).
    pub fn from_sdk_config(sdk: &crate::aws_config::SdkConfig) -> Result<Self, String> {
        let config = Config::from_env()?;
        let clients = Clients::from_sdk_config(sdk);
        Ok(Self::with_aws(&clients, config, Arc::new(SystemClock)))
    }
}
