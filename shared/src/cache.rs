//! What a process keeps of the configuration between requests: the
//! comuni's configurations (for `Config::tenant_ttl`) and each window's
//! service (fixed when the window is created, so kept for good). Bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Service;

/// At most this many comuni are kept (a process serves a handful).
const MAX_KEPT: usize = 256;

#[derive(Default)]
pub struct TenantCache {
    kept: Mutex<HashMap<TenantSlug, (Arc<Tenant>, Instant)>>,
    /// Each window's service: fixed when the window is created, so kept
    /// for the life of the process.
    services: Mutex<HashMap<(TenantSlug, String), Service>>,
}

impl TenantCache {
    /// The service of window `id`, if this process has read the window.
    pub fn window_service(&self, slug: &TenantSlug, id: &str) -> Option<Service> {
        self.services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(slug.clone(), id.to_owned()))
            .copied()
    }

    pub fn keep_window_service(&self, slug: &TenantSlug, id: &str, service: Service) {
        let mut services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if services.len() >= MAX_KEPT * 16 {
            services.clear();
        }
        services.insert((slug.clone(), id.to_owned()), service);
    }

    pub fn get(&self, slug: &TenantSlug, ttl: Duration) -> Option<Arc<Tenant>> {
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(slug)
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(t, _)| t.clone())
    }

    pub fn keep(&self, tenant: Arc<Tenant>) {
        let mut kept = self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(tenant.slug.clone(), (tenant, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(slug: &str, name: &str) -> Arc<Tenant> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "slug": slug, "name": name, "contact_email": "a@b.it", "phone": "080",
                "services": ["refezione"]
            }))
            .expect("tenant"),
        )
    }

    #[test]
    fn a_kept_tenant_lasts_its_time_and_no_longer() {
        let cache = TenantCache::default();
        let slug = TenantSlug::parse("demo").expect("slug");
        assert!(cache.get(&slug, Duration::from_secs(30)).is_none());
        cache.keep(tenant("demo", "A"));
        assert_eq!(
            cache
                .get(&slug, Duration::from_secs(30))
                .map(|t| t.name.clone()),
            Some("A".into())
        );
        assert!(cache.get(&slug, Duration::ZERO).is_none(), "expired");
        cache.keep(tenant("demo", "B"));
        assert_eq!(
            cache
                .get(&slug, Duration::from_secs(30))
                .map(|t| t.name.clone()),
            Some("B".into())
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TenantCache::default();
        for i in 0..(MAX_KEPT + 10) {
            cache.keep(tenant(&format!("c{i}"), "X"));
        }
        let kept = cache.kept.lock().expect("lock").len();
        assert!(kept <= MAX_KEPT, "{kept}");
    }
}
