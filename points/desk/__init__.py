"""Pages that combine capabilities (a holder's page, a user's home): above every capability,
so that none of them needs to import another to draw one screen."""
