//! What a process keeps of the configuration between requests: the
//! comuni's configurations (for `Config::tenant_ttl`), their windows (for
//! `Config::window_ttl`, a second or two: every parent's request reads its
//! window, and on an opening morning that one item would be read thousands
//! of times a second) and each window's service (fixed when the window is
//! created, so kept for good). Bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::{Service, Window};

/// At most this many comuni are kept (a process serves a handful).
const MAX_KEPT: usize = 256;

#[derive(Default)]
pub struct TenantCache {
    kept: Mutex<HashMap<TenantSlug, (Arc<Tenant>, Instant)>>,
    /// Each window's service: fixed when the window is created, so kept
    /// for the life of the process.
    services: Mutex<HashMap<(TenantSlug, String), Service>>,
    /// Windows as read, by comune and id, and each comune's list.
    windows: Mutex<HashMap<(TenantSlug, String), (Window, Instant)>>,
    lists: Mutex<HashMap<TenantSlug, (Vec<Window>, Instant)>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TenantCache {
    /// Window `id` as read within `ttl`.
    pub fn window(&self, slug: &TenantSlug, id: &str, ttl: Duration) -> Option<Window> {
        locked(&self.windows)
            .get(&(slug.clone(), id.to_owned()))
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(w, _)| w.clone())
    }

    pub fn keep_window(&self, slug: &TenantSlug, window: &Window) {
        let mut windows = locked(&self.windows);
        if windows.len() >= MAX_KEPT * 16 {
            windows.clear();
        }
        windows.insert(
            (slug.clone(), window.id.clone()),
            (window.clone(), Instant::now()),
        );
    }

    /// The comune's windows as listed within `ttl`.
    pub fn windows(&self, slug: &TenantSlug, ttl: Duration) -> Option<Vec<Window>> {
        locked(&self.lists)
            .get(slug)
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(w, _)| w.clone())
    }

    pub fn keep_windows(&self, slug: &TenantSlug, windows: &[Window]) {
        let mut lists = locked(&self.lists);
        if lists.len() >= MAX_KEPT {
            lists.clear();
        }
        lists.insert(slug.clone(), (windows.to_vec(), Instant::now()));
    }

    /// A window of the comune changed in this process: its copies go.
    pub fn forget_windows(&self, slug: &TenantSlug) {
        locked(&self.windows).retain(|(s, _), _| s != slug);
        locked(&self.lists).remove(slug);
    }

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
    fn a_kept_window_lasts_its_time_and_a_change_drops_it() {
        let cache = TenantCache::default();
        let slug = TenantSlug::parse("demo").expect("slug");
        let window: Window = serde_json::from_value(serde_json::json!({
            "id": "w-1", "service": "refezione", "school_year": "2026/2027",
            "opens_at": "2026-09-01T08:00:00Z", "closes_at": "2026-09-30T22:00:00Z"
        }))
        .expect("window");
        let ttl = Duration::from_secs(2);
        assert!(cache.window(&slug, "w-1", ttl).is_none());
        cache.keep_window(&slug, &window);
        cache.keep_windows(&slug, std::slice::from_ref(&window));
        assert_eq!(cache.window(&slug, "w-1", ttl), Some(window.clone()));
        assert_eq!(cache.windows(&slug, ttl).map(|w| w.len()), Some(1));
        assert!(
            cache.window(&slug, "w-1", Duration::ZERO).is_none(),
            "expired"
        );
        cache.forget_windows(&slug);
        assert!(cache.window(&slug, "w-1", ttl).is_none());
        assert!(cache.windows(&slug, ttl).is_none());
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
