import { Router } from 'express';
import { z } from 'zod';
import type { BanChecker } from '@ticketing/common/bans';
import { HttpError, NotFoundError, requireAuth, signedInUser, uuidParam, validateRequest } from '@ticketing/common/http';
import type { Database } from '@ticketing/common/runtime';
import { cancelOrder, findOrder, insertOrder, listOrders } from './orders.js';

const createBody = z.object({
  ticketId: z
    .string({ error: 'ticketId must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'ticketId must be 1 to 64 letters, digits, - or _' }),
});

const orderParams = z.object({ id: uuidParam('Order id must be a UUID') });

/** `/api/orders...`: every route needs a signed-in, unbanned user, who only ever sees their own orders. */
export function ordersRouter(deps: { db: Database; bans: BanChecker }): Router {
  const { db } = deps;
  const router = Router();
  router.use('/api/orders', requireAuth({ bans: deps.bans }));

  router.post('/api/orders', validateRequest({ body: createBody }), async (req, res) => {
    const { ticketId } = req.body;
    res.status(201).json(await insertOrder(db, { userId: signedInUser(req).id, ticketId }));
  });

  router.get('/api/orders', async (req, res) => {
    res.json(await listOrders(db, signedInUser(req).id));
  });

  router.get('/api/orders/:id', validateRequest({ params: orderParams }), async (req, res) => {
    const order = await findOrder(db, signedInUser(req).id, req.params.id);
    if (order === null) throw new NotFoundError('Order not found');
    res.json(order);
  });

  router.post('/api/orders/:id/cancel', validateRequest({ params: orderParams }), async (req, res) => {
    const { id } = req.params;
    const userId = signedInUser(req).id;
    const cancelled = await cancelOrder(db, userId, id);
    if (cancelled !== null) {
      res.json(cancelled);
      return;
    }
    if ((await findOrder(db, userId, id)) === null) throw new NotFoundError('Order not found');
    throw new HttpError('BAD_REQUEST', { message: 'Order is already cancelled' });
  });

  return router;
}
