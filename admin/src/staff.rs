//! Staff accounts in the deployment's user pool (Amazon Cognito): a group
//! per comune, named by its slug, whose members the pre-token trigger
//! (`fn_staff_token`) gives `role: staff` and `tenant: <slug>`. Accounts
//! are made by the IT officer only (the pool allows no sign-up); Cognito
//! mails the temporary password.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType};
use shared::domain::tenant::Tenant;
use shared::domain::values::Email;

/// The pool and, for registering each comune's sign-in address, its app
/// client.
pub struct Pool {
    pub client: Client,
    pub pool_id: String,
    pub app_client_id: Option<String>,
}

fn failed(what: &str, e: &impl ProvideErrorMetadata) -> String {
    format!(
        "{what}: {}",
        e.message().or(e.code()).unwrap_or("the user pool refused")
    )
}

/// What an invitation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    /// A new account (Cognito mailed its temporary password).
    pub created: bool,
    /// The comune's sign-in address, newly registered on the app client.
    pub callback_added: Option<String>,
    /// The account is in another comune's group too: it gets no claims
    /// until it is in one only.
    pub other_comuni: Vec<String>,
}

/// A staff member as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub email: String,
    pub status: String,
    pub enabled: bool,
}

/// `<portal>/staff/accesso` of a comune, from its configured portal address.
pub fn callback_of(tenant: &Tenant) -> Option<String> {
    let portal = tenant.information.portal_url.trim();
    (!portal.is_empty()).then(|| format!("{}/staff/accesso", portal.trim_end_matches('/')))
}

impl Pool {
    async fn ensure_group(&self, tenant: &Tenant) -> Result<(), String> {
        match self
            .client
            .create_group()
            .user_pool_id(&self.pool_id)
            .group_name(tenant.slug.as_str())
            .description(&tenant.name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("GroupExistsException") => Ok(()),
            Err(e) => Err(failed("creating the comune's group", &e)),
        }
    }

    /// The groups of an account.
    async fn groups_of(&self, email: &str) -> Result<Vec<String>, String> {
        let out = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.pool_id)
            .username(email)
            .send()
            .await
            .map_err(|e| failed("reading the account's comuni", &e))?;
        Ok(out
            .groups()
            .iter()
            .filter_map(|g| g.group_name().map(str::to_owned))
            .collect())
    }

    /// `admin staff invite --tenant SLUG --email ADDRESS`: the account (a
    /// new one is mailed its temporary password), in the comune's group,
    /// and the comune's sign-in address on the app client. Safe to repeat.
    pub async fn invite(&self, tenant: &Tenant, email: &Email) -> Result<Invited, String> {
        self.ensure_group(tenant).await?;
        let created = match self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(email.as_str())
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(email.as_str())
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some("UsernameExistsException") => false,
            Err(e) => return Err(failed("creating the account", &e)),
        };
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.pool_id)
            .username(email.as_str())
            .group_name(tenant.slug.as_str())
            .send()
            .await
            .map_err(|e| failed("adding the account to the comune", &e))?;
        let other_comuni = self
            .groups_of(email.as_str())
            .await?
            .into_iter()
            .filter(|g| g != tenant.slug.as_str())
            .collect();
        let callback_added = match callback_of(tenant) {
            Some(url) => self.ensure_callback(&url).await?.then_some(url),
            None => None,
        };
        Ok(Invited {
            created,
            callback_added,
            other_comuni,
        })
    }

    /// Register `url` as a sign-in address of the app client (`true` when
    /// it was added). An update replaces the whole client, so every
    /// setting read is written back.
    async fn ensure_callback(&self, url: &str) -> Result<bool, String> {
        let Some(client_id) = &self.app_client_id else {
            return Ok(false);
        };
        let described = self
            .client
            .describe_user_pool_client()
            .user_pool_id(&self.pool_id)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| failed("reading the app client", &e))?;
        let Some(c) = described.user_pool_client() else {
            return Err("the app client was not found".into());
        };
        if c.callback_urls().iter().any(|u| u == url) {
            return Ok(false);
        }
        let mut callbacks: Vec<String> = c.callback_urls().to_vec();
        callbacks.push(url.to_owned());
        self.client
            .update_user_pool_client()
            .user_pool_id(&self.pool_id)
            .client_id(client_id)
            .set_client_name(c.client_name().map(str::to_owned))
            .refresh_token_validity(c.refresh_token_validity())
            .access_token_validity(c.access_token_validity().unwrap_or(1))
            .id_token_validity(c.id_token_validity().unwrap_or(1))
            .set_token_validity_units(c.token_validity_units().cloned())
            .set_read_attributes(Some(c.read_attributes().to_vec()).filter(|v| !v.is_empty()))
            .set_write_attributes(Some(c.write_attributes().to_vec()).filter(|v| !v.is_empty()))
            .set_explicit_auth_flows(
                Some(c.explicit_auth_flows().to_vec()).filter(|v| !v.is_empty()),
            )
            .set_supported_identity_providers(
                Some(c.supported_identity_providers().to_vec()).filter(|v| !v.is_empty()),
            )
            .set_callback_urls(Some(callbacks))
            .set_logout_urls(Some(c.logout_urls().to_vec()).filter(|v| !v.is_empty()))
            .set_default_redirect_uri(c.default_redirect_uri().map(str::to_owned))
            .set_allowed_o_auth_flows(
                Some(c.allowed_o_auth_flows().to_vec()).filter(|v| !v.is_empty()),
            )
            .set_allowed_o_auth_scopes(
                Some(c.allowed_o_auth_scopes().to_vec()).filter(|v| !v.is_empty()),
            )
            .set_allowed_o_auth_flows_user_pool_client(c.allowed_o_auth_flows_user_pool_client())
            .set_prevent_user_existence_errors(c.prevent_user_existence_errors().cloned())
            .set_enable_token_revocation(c.enable_token_revocation())
            .set_auth_session_validity(c.auth_session_validity())
            .send()
            .await
            .map_err(|e| failed("registering the comune's sign-in address", &e))?;
        Ok(true)
    }

    /// `admin staff list --tenant SLUG`: the comune's staff.
    pub async fn list(&self, tenant: &Tenant) -> Result<Vec<Member>, String> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = match self
                .client
                .list_users_in_group()
                .user_pool_id(&self.pool_id)
                .group_name(tenant.slug.as_str())
                .set_next_token(next.take())
                .send()
                .await
            {
                Ok(p) => p,
                Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(out),
                Err(e) => return Err(failed("listing the comune's staff", &e)),
            };
            for u in page.users() {
                let email = u
                    .attributes()
                    .iter()
                    .find(|a| a.name() == "email")
                    .and_then(|a| a.value())
                    .or(u.username())
                    .unwrap_or_default()
                    .to_owned();
                out.push(Member {
                    email,
                    status: u
                        .user_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    enabled: u.enabled(),
                });
            }
            match page.next_token() {
                Some(t) => next = Some(t.to_owned()),
                None => break,
            }
        }
        out.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(out)
    }

    /// `admin staff remove --tenant SLUG --email ADDRESS`: out of the
    /// comune's group and signed out everywhere (refresh tokens revoked; an
    /// ID token already issued lasts until it expires, an hour at most);
    /// an account left in no comune is deleted. `false` when it was not a
    /// member.
    pub async fn remove(&self, tenant: &Tenant, email: &Email) -> Result<bool, String> {
        let groups = match self.groups_of(email.as_str()).await {
            Ok(g) => g,
            Err(_) => return Ok(false),
        };
        if !groups.iter().any(|g| g == tenant.slug.as_str()) {
            return Ok(false);
        }
        self.client
            .admin_remove_user_from_group()
            .user_pool_id(&self.pool_id)
            .username(email.as_str())
            .group_name(tenant.slug.as_str())
            .send()
            .await
            .map_err(|e| failed("removing the account from the comune", &e))?;
        self.client
            .admin_user_global_sign_out()
            .user_pool_id(&self.pool_id)
            .username(email.as_str())
            .send()
            .await
            .map_err(|e| failed("signing the account out", &e))?;
        if groups.len() == 1 {
            self.client
                .admin_delete_user()
                .user_pool_id(&self.pool_id)
                .username(email.as_str())
                .send()
                .await
                .map_err(|e| failed("deleting the account", &e))?;
        }
        Ok(true)
    }
}
