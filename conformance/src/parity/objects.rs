//! The request's socket objects, shared by every task of the request.
//!
//! As in Lua, an object lives until request end even when its slot name is given to a
//! new object (`tcp` twice on one slot): the old one, and any iterator bound to it, stay
//! alive, and request end closes it. Slots are shared by name between tasks; an op takes
//! its socket out of the table while it runs and puts it back afterwards, so the lock
//! (a std mutex) is never held across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cosocket_core::{Cosockets, Until};

/// One socket object.
pub(crate) enum Sock<C: Cosockets> {
    /// `ngx.socket.tcp()`.
    Stream(C::Stream),
    /// `ngx.socket.udp()`.
    Datagram(C::Datagram),
}

struct Table<C: Cosockets> {
    /// Every object the request created, by creation order; `None` while an op runs on
    /// it (or after request end).
    objects: Vec<Option<Sock<C>>>,
    /// Slot name → object.
    slots: HashMap<String, usize>,
    /// Iterator name → the object it is bound to and its state (`None` while it runs).
    iters: HashMap<String, (usize, Option<Until>)>,
}

/// The shared table (cheap to clone).
pub(crate) struct Objects<C: Cosockets>(Arc<Mutex<Table<C>>>);

impl<C: Cosockets> Clone for Objects<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C: Cosockets> Objects<C> {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(Table {
            objects: Vec::new(),
            slots: HashMap::new(),
            iters: HashMap::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Table<C>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new object in `slot` (the slot's previous object, if any, lives on).
    pub(crate) fn create(&self, slot: &str, sock: Sock<C>) {
        let mut table = self.lock();
        table.objects.push(Some(sock));
        let id = table.objects.len() - 1;
        table.slots.insert(slot.to_owned(), id);
    }

    /// Takes the object of `slot` out for one op.
    pub(crate) fn take(&self, slot: &str) -> Result<(usize, Sock<C>), String> {
        let mut table = self.lock();
        let id = *table
            .slots
            .get(slot)
            .ok_or_else(|| format!("no socket object in slot {slot:?}"))?;
        let sock = table.objects[id]
            .take()
            .ok_or_else(|| format!("the socket of slot {slot:?} is in use by another task"))?;
        Ok((id, sock))
    }

    /// Takes object `id` out (an iterator's socket).
    pub(crate) fn take_id(&self, id: usize) -> Result<Sock<C>, String> {
        self.lock().objects[id]
            .take()
            .ok_or_else(|| "the iterator's socket is in use by another task".to_owned())
    }

    /// Puts object `id` back after an op.
    pub(crate) fn put(&self, id: usize, sock: Sock<C>) {
        self.lock().objects[id] = Some(sock);
    }

    /// Stores the iterator `name`, bound to object `id` (replacing any earlier one).
    pub(crate) fn bind_iter(&self, name: &str, id: usize, until: Until) {
        self.lock().iters.insert(name.to_owned(), (id, Some(until)));
    }

    /// Forgets the iterator `name`.
    pub(crate) fn unbind_iter(&self, name: &str) {
        self.lock().iters.remove(name);
    }

    /// Takes the iterator `name` out for one call: its object id and state.
    pub(crate) fn take_iter(&self, name: &str) -> Result<(usize, Until), String> {
        let mut table = self.lock();
        let (id, until) = table
            .iters
            .get_mut(name)
            .ok_or_else(|| format!("no iterator {name:?} (attempt to call a nil value)"))?;
        let until = until
            .take()
            .ok_or_else(|| format!("iterator {name:?} is in use by another task"))?;
        Ok((*id, until))
    }

    /// Puts the iterator `name` back after its call.
    pub(crate) fn put_iter(&self, name: &str, until: Until) {
        if let Some((_, slot)) = self.lock().iters.get_mut(name) {
            *slot = Some(until);
        }
    }

    /// Request end: takes every object out (the caller drops them, closing every
    /// connection that is not in a pool) and forgets slots and iterators.
    pub(crate) fn clear(&self) -> Vec<Sock<C>> {
        let mut table = self.lock();
        table.slots.clear();
        table.iters.clear();
        table.objects.iter_mut().filter_map(Option::take).collect()
    }
}
