// Creates the dataset model exactly once. Creating is not safe to repeat blindly: the server
// may have stored the model before the connection dropped, so after such a failure the folder is
// listed to see whether the dataset exists before another attempt.

import { RemoteError, UsageError } from '../errors.js';
import type { MstrClient } from '../targets/mstr/client.js';
import type { ModelBody } from '../targets/mstr/payload.js';
import type { ProgressSink } from './progress.js';

/** Object type of datasets (cubes) in folder listings. */
const DATASET_OBJECT_TYPE = 3;

export async function createDatasetOnce(
  client: MstrClient,
  model: ModelBody,
  options: { folderId: string | undefined; progress: ProgressSink; signal?: AbortSignal },
): Promise<{ id: string; name: string }> {
  const { folderId, progress, signal } = options;
  const folderName = folderId ? `folder ${folderId}` : 'My Reports';
  const sameName = (o: { name: string; type: number }) => o.name === model.name && o.type === DATASET_OBJECT_TYPE;

  // The server would overwrite a same-named dataset in place, dropping its rows; refuse instead.
  const before = await client.listFolder(folderId, signal);
  const clash = before?.find(sameName);
  if (clash) {
    throw new UsageError(`a dataset named "${model.name}" already exists in ${folderName} (${clash.id})`, {
      hint: `load into it with: mstrpush append ${clash.id} FILE --policy replace (or add), or choose another --name`,
    });
  }

  try {
    return await client.createModel(model, signal);
  } catch (error) {
    if (!(error instanceof RemoteError) || !error.mayHaveTakenEffect) throw error;
    if (!before) {
      throw new RemoteError(error.code === 'HTTP_STATUS' ? 'HTTP_STATUS' : 'HTTP_NETWORK', `creating dataset "${model.name}" failed, and it may have been created: ${error.message}`, {
        cause: error,
        hint: `look for "${model.name}" in ${folderName} before running the command again`,
      });
    }
    const after = await client.listFolder(folderId, signal);
    const made = after?.find((o) => sameName(o) && !before.some((b) => b.id === o.id));
    if (made) {
      progress.warn(`creating the dataset answered with an error (${error.message}), but the server stored it: continuing with ${made.id}`);
      return { id: made.id, name: made.name };
    }
    progress.warn(`creating the dataset failed (${error.message}) and the server did not store it; trying again`);
    return client.createModel(model, signal);
  }
}
