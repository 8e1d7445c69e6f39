import { Router, type Request } from 'express';
import { z } from 'zod';
import type { BanChecker } from '@ticketing/common/bans';
import { HttpError, NotFoundError, requireAuth, uuidParam, validateRequest } from '@ticketing/common/http';
import type { Database } from '@ticketing/common/runtime';
import { cancelOrder, findOrder, insertOrder, listOrders } from './orders.js';

const createBody = z.object({
  ticketId: z
    .string({ error: 'ticketId must be a string' })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'ticketId must be 1 to 64 letters, digits, - or _' }),
});

const orderParams = z.object({ id: uuidParam('Order id must be a UUID') });

/** `requireAuth` ran first, so the user is there. */
function userId(req: Request): string {
  return req.currentUser!.id;
}

/** `/api/orders...`: every route needs a signed-in, unbanned user, who only ever sees their own orders. */
export function ordersRouter(deps: { db: Database; bans: BanChecker }): Router {
  const { db } = deps;
  const router = Router();
  router.use('/api/orders', requireAuth({ bans: deps.bans }));

  router.post('/api/orders', validateRequest({ body: createBody }), async (req, res) => {
    const { ticketId } = req.body as z.infer<typeof createBody>;
    res.status(201).json(await insertOrder(db, { userId: userId(req), ticketId }));
  });

  router.get('/api/orders', async (req, res) => {
    res.json(await listOrders(db, userId(req)));
  });

  router.get('/api/orders/:id', validateRequest({ params: orderParams }), async (req, res) => {
    const order = await findOrder(db, userId(req), req.params.id as string);
    if (order === null) throw new NotFoundError('Order not found');
    res.json(order);
  });

  router.post('/api/orders/:id/cancel', validateRequest({ params: orderParams }), async (req, res) => {
    const id = req.params.id as string;
    const cancelled = await cancelOrder(db, userId(req), id);
    if (cancelled !== null) {
      res.json(cancelled);
      return;
    }
    if ((await findOrder(db, userId(req), id)) === null) throw new NotFoundError('Order not found');
    throw new HttpError('BAD_REQUEST', { message: 'Order is already cancelled' });
  });

  return router;
}
