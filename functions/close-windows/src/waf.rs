//! The web ACL's challenge list (`ChallengedPaths` of the template), a
//! WAF regex pattern set: read with its lock token, written only if
//! nobody wrote it since (WAF's optimistic lock).

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_wafv2::types::{Regex, Scope};
use shared::ports::ChallengeList;

/// The regex pattern set by name and id (`CHALLENGE_SET_NAME`,
/// `CHALLENGE_SET_ID`), in the API's region.
#[derive(Clone)]
pub struct WafChallengeList {
    client: aws_sdk_wafv2::Client,
    name: String,
    id: String,
}

impl WafChallengeList {
    pub fn new(client: aws_sdk_wafv2::Client, name: String, id: String) -> Self {
        Self { client, name, id }
    }

    /// The patterns and the lock token.
    async fn read(&self) -> Result<(BTreeSet<String>, String), String> {
        let got = self
            .client
            .get_regex_pattern_set()
            .name(&self.name)
            .id(&self.id)
            .scope(Scope::Regional)
            .send()
            .await
            .map_err(|e| format!("read: {}", aws_sdk_wafv2::error::DisplayErrorContext(&e)))?;
        let patterns = got
            .regex_pattern_set()
            .map(|s| {
                s.regular_expression_list()
                    .iter()
                    .filter_map(|r| r.regex_string().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok((patterns, got.lock_token().unwrap_or_default().to_owned()))
    }

    /// From the environment, if the deployment has the set.
    pub fn from_env(sdk: &shared::aws_config::SdkConfig) -> Option<Self> {
        let name = std::env::var("CHALLENGE_SET_NAME")
            .ok()
            .filter(|v| !v.is_empty())?;
        let id = std::env::var("CHALLENGE_SET_ID")
            .ok()
            .filter(|v| !v.is_empty())?;
        Some(Self::new(aws_sdk_wafv2::Client::new(sdk), name, id))
    }
}

#[async_trait]
impl ChallengeList for WafChallengeList {
    async fn get(&self) -> Result<BTreeSet<String>, String> {
        Ok(self.read().await?.0)
    }

    async fn set(&self, patterns: &BTreeSet<String>) -> Result<bool, String> {
        let (current, lock) = self.read().await?;
        if &current == patterns {
            return Ok(false);
        }
        let list: Vec<Regex> = patterns
            .iter()
            .map(|p| Regex::builder().regex_string(p).build())
            .collect();
        self.client
            .update_regex_pattern_set()
            .name(&self.name)
            .id(&self.id)
            .scope(Scope::Regional)
            .set_regular_expression_list(Some(list))
            .lock_token(lock)
            .send()
            .await
            .map_err(|e| format!("write: {}", aws_sdk_wafv2::error::DisplayErrorContext(&e)))?;
        Ok(true)
    }
}
