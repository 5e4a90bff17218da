// POST /api/auth/login, /register, /logout, /refresh; GET /api/auth/session,
// /api/auth/oauth/{provider}, /api/auth/callback/{provider}.
import { handlers } from '@gatehouse/next-sdk/server';

export const { GET, POST } = handlers;
