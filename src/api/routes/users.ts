import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../../access/policy.js';
import type { Database } from '../../db/client.js';
import { createUser, issueToken, listUsers, revokeToken, userExists } from '../../db/repositories/users.js';
import { DomainError } from '../../shared/errors.js';
import { USER_ROLES } from '../../shared/roles.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { errorResponse } from '../schemas.js';

const UserSchema = z
  .object({
    id: z.guid(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(USER_ROLES),
    institutionCodes: z.array(z.string()),
    disabled: z.boolean(),
  })
  .openapi('User');

const NewUserSchema = z
  .object({
    email: z.string().email(),
    displayName: z.string().min(1).max(200),
    role: z.enum(USER_ROLES),
    institutionCodes: z
      .array(z.string().min(1).max(64))
      .default([])
      .openapi({ description: 'institutions whose studies the user sees; created when unknown' }),
  })
  .openapi('NewUser');

const TokenRequestSchema = z.object({
  label: z.string().min(1).max(200),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

const security = [{ bearer: [] }];
const errors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Not an administrator'),
};

const me = createRoute({
  method: 'get',
  path: '/api/me',
  summary: 'The caller: user, role and institutions',
  security,
  responses: {
    200: {
      content: {
        'application/json': {
          schema: z.object({
            userId: z.string(),
            email: z.string(),
            role: z.enum(USER_ROLES),
            institutionIds: z.array(z.string()),
          }),
        },
      },
      description: 'The caller',
    },
    401: errors[401],
  },
});

const list = createRoute({
  method: 'get',
  path: '/api/users',
  summary: 'Every user (administrators)',
  security,
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ users: z.array(UserSchema) }) } },
      description: 'Users',
    },
    ...errors,
  },
});

const create = createRoute({
  method: 'post',
  path: '/api/users',
  summary: 'Create a user (administrators)',
  security,
  request: { body: { content: { 'application/json': { schema: NewUserSchema } }, required: true } },
  responses: {
    201: { content: { 'application/json': { schema: UserSchema } }, description: 'Created' },
    ...errors,
    409: errorResponse('Email taken'),
  },
});

const createToken = createRoute({
  method: 'post',
  path: '/api/users/{userId}/tokens',
  summary: 'Issue a bearer token for a user (administrators); the token is shown only in this response',
  security,
  request: {
    params: z.object({ userId: z.guid() }),
    body: { content: { 'application/json': { schema: TokenRequestSchema } }, required: true },
  },
  responses: {
    201: {
      content: { 'application/json': { schema: z.object({ id: z.string(), token: z.string() }) } },
      description: 'The token',
    },
    ...errors,
    404: errorResponse('Unknown user'),
  },
});

const revoke = createRoute({
  method: 'delete',
  path: '/api/tokens/{tokenId}',
  summary: 'Revoke a token (administrators)',
  security,
  request: { params: z.object({ tokenId: z.guid() }) },
  responses: { 204: { description: 'Revoked' }, ...errors, 404: errorResponse('Unknown or revoked token') },
});

/** Users and tokens: administrators manage them; anyone may ask who they are. */
export function userRoutes(deps: { db: Database }) {
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(me, (c) => {
    const { userId, email, role, institutionIds } = principalOf(c);
    return c.json({ userId, email, role, institutionIds }, 200);
  });

  app.openapi(list, async (c) => {
    requireRole(principalOf(c), ['admin'], 'list users');
    return c.json({ users: await listUsers(deps.db) }, 200);
  });

  app.openapi(create, async (c) => {
    requireRole(principalOf(c), ['admin'], 'create users');
    const user = await createUser(deps.db, c.req.valid('json'));
    await audit(c, deps.db, {
      action: 'user.created',
      resourceType: 'user',
      resourceId: user.id,
      details: { role: user.role },
    });
    return c.json(user, 201);
  });

  app.openapi(createToken, async (c) => {
    requireRole(principalOf(c), ['admin'], 'issue tokens');
    const { userId } = c.req.valid('param');
    const { label, expiresInDays } = c.req.valid('json');
    if (!(await userExists(deps.db, userId))) throw new DomainError('NOT_FOUND', `user ${userId} is unknown`);
    const issued = await issueToken(deps.db, userId, {
      label,
      ...(expiresInDays !== undefined && { expiresAt: new Date(Date.now() + expiresInDays * 86_400_000) }),
    });
    await audit(c, deps.db, {
      action: 'token.issued',
      resourceType: 'user',
      resourceId: userId,
      details: { tokenId: issued.id },
    });
    return c.json(issued, 201);
  });

  app.openapi(revoke, async (c) => {
    requireRole(principalOf(c), ['admin'], 'revoke tokens');
    const { tokenId } = c.req.valid('param');
    if (!(await revokeToken(deps.db, tokenId)))
      throw new DomainError('NOT_FOUND', `token ${tokenId} is unknown or revoked`);
    await audit(c, deps.db, { action: 'token.revoked', resourceType: 'token', resourceId: tokenId });
    return c.body(null, 204);
  });

  return app;
}
